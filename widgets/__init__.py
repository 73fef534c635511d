"""Panel apps and reusable components of the workbench.

* :class:`widgets.estimator_lab.EstimatorLab`: estimators against ground truth; displays
  itself in a notebook cell (after ``pn.extension(inline=True)``) and is the ``/estimator_lab``
  page of ``workbench serve``.
* :mod:`widgets.app`: the page registry and the multi-page server.
* :mod:`widgets.components`: banners, size-limited uploads, knob panels, plot slots.

Apps only wire widgets to :mod:`workbench` calls; no information quantity is computed here.
"""
from __future__ import annotations

from workbench.extras import installed, missing

# found, not imported, so `import widgets.app` still decides what loads when
if not installed("panel"):
    raise missing("panel", "the apps (workbench serve, widgets)")


def __getattr__(name: str):
    # lazy: `import widgets.app` should not build every page's imports up front
    if name == "EstimatorLab":
        from .estimator_lab import EstimatorLab

        return EstimatorLab
    raise AttributeError(f"module 'widgets' has no attribute {name!r}")


__all__ = ["EstimatorLab"]
