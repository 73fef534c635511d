"""An optional PyTorch Lightning callback that records an :class:`InformationPlane` each epoch.

::

    from .lightning import InformationPlaneCallback
    plane = InformationPlane(model, x=x_all, y=y_all)
    trainer = lightning.Trainer(callbacks=[InformationPlaneCallback(plane)])

Lightning is imported only when the callback is created (``pip install lightning``); the rest of
workbench never needs it. Epoch 0 (the untrained network) is recorded at ``on_fit_start``; epoch
``e`` (1-based) after each training epoch, with the logged ``train_loss`` / ``train_accuracy``
/ ``val_loss`` / ``val_accuracy`` metrics mapped onto the plane's loss and accuracy rows when
present.
"""
from __future__ import annotations

from ..errors import WorkbenchError

_METRIC_KEYS = {"train_loss": ("train_loss", "loss"), "train_accuracy": ("train_accuracy",
                                                                        "train_acc", "accuracy"),
                "test_loss": ("val_loss", "test_loss"),
                "test_accuracy": ("val_accuracy", "val_acc", "test_accuracy")}


def _lightning_callback_base():
    try:
        import lightning.pytorch as pl
    except ImportError:
        try:
            import pytorch_lightning as pl  # the older package name
        except ImportError as exc:
            raise WorkbenchError("the Lightning callback needs the 'lightning' package: pip "
                                 "install lightning (or workbench[lightning])") from exc
    return pl.Callback


def _metrics(logged: dict) -> dict:
    out = {}
    for key, names in _METRIC_KEYS.items():
        for name in names:
            if name in logged:
                value = logged[name]
                out[key] = float(value.item() if hasattr(value, "item") else value)
                break
    return out


def InformationPlaneCallback(plane):  # noqa: N802 - reads as a class at the call site
    """A Lightning ``Callback`` instance that calls ``plane.record`` once per epoch."""
    base = _lightning_callback_base()

    class _Callback(base):
        def __init__(self):
            super().__init__()
            self.plane = plane

        def on_fit_start(self, trainer, pl_module):
            self.plane.record(0, force=True)

        def on_train_epoch_end(self, trainer, pl_module):
            epoch = int(trainer.current_epoch) + 1
            self.plane.record(epoch, _metrics(dict(trainer.callback_metrics)))

    return _Callback()
