"""Training loop and models: determinism, callbacks, pause/stop from another thread."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

from workbench.errors import InputError
from workbench.training import datasets
from workbench.training.loop import train
from workbench.training.models import mlp, parse_widths


@pytest.fixture(scope="module")
def blobs():
    return datasets.gaussian_mixture(n=400, classes=3, dim=2, seed=0, separation=4.0)


def _params(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_mlp_layers_widths_and_init():
    net = mlp("12-10-7-5-4-3-2", activation="relu", seed=0)
    assert net.tracked_layers == [f"layer{i}" for i in range(1, 7)]
    assert [net.layer1[0].in_features, net.layer6[0].out_features] == [12, 2]
    assert parse_widths("12-10-2") == [12, 10, 2] and parse_widths([3, 2]) == [3, 2]
    out = net(torch.rand(5, 12))
    assert torch.allclose(out.sum(dim=1), torch.ones(5))  # softmax probabilities
    # weights ~ truncated N(0, 1/fan_in): on a wide layer the std is 0.88/sqrt(fan_in)
    # (truncation at 2 sigma); 40 000 draws put the sample std within ~1% of that.
    wide = mlp("400-100-2", seed=3).layer1[0].weight.detach().numpy()
    assert abs(wide.std() * np.sqrt(400) - 0.8796) < 0.02
    assert np.abs(wide).max() <= 2 / np.sqrt(400) + 1e-7
    assert torch.equal(_params(mlp(seed=5)), _params(mlp(seed=5)))
    assert not torch.equal(_params(mlp(seed=5)), _params(mlp(seed=6)))
    with pytest.raises(InputError, match="unknown activation"):
        mlp(activation="swish")
    with pytest.raises(InputError):
        parse_widths("12")


def test_training_learns_and_reports_metrics(blobs):
    seen = []
    res = train(mlp("2-16-3", seed=0), blobs, epochs=15, lr=0.02, batch_size=64,
                callbacks=[lambda e, m, metrics: seen.append(metrics)])
    assert [m["epoch"] for m in seen] == list(range(16))  # epoch 0 = the untrained network
    assert set(seen[0]) >= {"train_loss", "train_accuracy", "test_loss", "test_accuracy"}
    assert seen[-1]["train_accuracy"] > 0.9 and seen[-1]["test_accuracy"] > 0.85
    assert seen[-1]["train_loss"] < seen[0]["train_loss"]
    assert res.epochs_completed == 15 and not res.stopped
    assert len(res.frame()) == 16


def test_same_seed_same_numbers(blobs):
    runs = [train(mlp("2-8-3", seed=1), blobs, epochs=3, lr=0.01, batch_size=32, seed=4,
                  optimizer=opt) for opt in ("adam", "adam", "sgd")]
    a, b, c = [[h["train_loss"] for h in r.history] for r in runs]
    assert a == b
    assert a != c
    other = train(mlp("2-8-3", seed=1), blobs, epochs=3, lr=0.01, batch_size=32, seed=5)
    assert [h["train_loss"] for h in other.history] != a  # different batch order


def test_callback_returning_false_and_stop_event_stop(blobs):
    res = train(mlp("2-8-3"), blobs, epochs=50, callbacks=[lambda e, m, x: e < 3])
    assert res.stopped and res.epochs_completed == 3
    stop = threading.Event()

    class StopAt2:
        def on_epoch_end(self, epoch, model, metrics):
            if epoch == 2:
                stop.set()

    res = train(mlp("2-8-3"), blobs, epochs=50, callbacks=[StopAt2()], stop_event=stop)
    assert res.stopped and res.epochs_completed == 2
    with pytest.raises(InputError, match="optimizer"):
        train(mlp("2-8-3"), blobs, epochs=1, optimizer="lbfgs")
    with pytest.raises(InputError):
        train(mlp("2-8-3"), blobs, epochs=1, lr=0)


PATIENCE = 60.0  # seconds: generous deadlines for the worker thread, never a speed claim


class CountingEvent(threading.Event):
    """An Event that counts the times ``is_set()`` answered True on a thread other than the
    one that made it: with ``pause_event`` that is the training thread's pause checks (the
    loop between mini-batches and the 50 ms sleep loop), so the test knows the worker is
    parked instead of guessing from a sleep."""

    def __init__(self):
        super().__init__()
        self.owner = threading.get_ident()
        self.seen_set = 0

    def is_set(self) -> bool:
        answer = super().is_set()
        if answer and threading.get_ident() != self.owner:
            self.seen_set += 1
        return answer


def poll(condition, what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {PATIENCE:.0f} s waiting for {what}")
        time.sleep(0.01)


def test_pause_holds_and_stop_ends_the_training_thread(blobs):
    pause, stop = CountingEvent(), threading.Event()
    epochs = []
    pause.set()
    worker = threading.Thread(target=train, args=(mlp("2-8-3"), blobs), daemon=True,
                              kwargs={"epochs": 100000, "batch_size": 16, "pause_event": pause,
                                      "stop_event": stop,
                                      "callbacks": [lambda e, m, x: epochs.append(e)]})
    worker.start()
    # paused from the start: epoch 0 (the untrained network) is reported, then the worker
    # parks before the first update and stays there
    poll(lambda: pause.seen_set >= 3, "the worker to park in the pause loop")
    assert epochs == [0]
    pause.clear()
    poll(lambda: len(epochs) >= 3, "three epochs after resuming")
    pause.set()
    # once the worker is seen in the pause check, every epoch it had begun has been reported
    # (callbacks run before the next mini-batch's check); the count must then stay put while
    # the worker keeps re-checking the pause
    parked = pause.seen_set
    poll(lambda: pause.seen_set > parked, "the worker to reach the pause")
    frozen = len(epochs)
    parked = pause.seen_set
    poll(lambda: pause.seen_set >= parked + 5, "five more pause checks")
    assert len(epochs) == frozen
    assert epochs == list(range(frozen))
    stop.set()  # honoured inside the pause loop: the thread ends without a resume
    worker.join(PATIENCE)
    assert not worker.is_alive()
