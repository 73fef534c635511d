"""Panel apps and reusable components of the workbench.

* :class:`widgets.estimator_lab.EstimatorLab`: estimators against ground truth; displays
  itself in a notebook cell (after ``pn.extension(inline=True)``) and is the ``/estimator_lab``
  page of ``workbench serve``.
* :mod:`widgets.app`: the page registry and the multi-page server.
* :class:`~widgets.plane_studio.PlaneStudio`, :class:`~widgets.entropy_monitor.EntropyMonitor`,
  :class:`~widgets.beyond_pairs.BeyondPairs`, :class:`~widgets.decoding_lab.DecodingLab`: the
  other pages, importable from here too; every
  app is also an ipywidget (``EstimatorLab().ipywidget()``, for VS Code, Colab and the classic
  notebook: :class:`widgets.components.IpywidgetMixin`).
* :mod:`widgets.components`: banners, size-limited uploads, knob panels, plot slots, the
  export bar.

Apps only wire widgets to :mod:`workbench` calls; no information quantity is computed here.
"""
from __future__ import annotations

from workbench.extras import installed, missing

# found, not imported, so `import widgets.app` still decides what loads when
if not installed("panel"):
    raise missing("panel", "the apps (workbench serve, widgets)")

#: App classes importable from ``widgets`` (each also an ipywidget: ``app.ipywidget()``).
_APPS = {"EstimatorLab": "estimator_lab", "PlaneStudio": "plane_studio",
         "EntropyMonitor": "entropy_monitor", "BeyondPairs": "beyond_pairs",
         "DecodingLab": "decoding_lab"}


def __getattr__(name: str):
    # lazy: `import widgets.app` should not build every page's imports up front
    if name in _APPS:
        import importlib

        return getattr(importlib.import_module(f".{_APPS[name]}", __name__), name)
    raise AttributeError(f"module 'widgets' has no attribute {name!r}")


__all__ = list(_APPS)
