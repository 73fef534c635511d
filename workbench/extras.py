"""Optional dependencies: which extra of ``pip install 'workbench[...]'`` installs which package,
and one clear error when a feature needs a package that is not installed.

The core (numpy, scipy, numba, pandas, pyarrow, param, scikit-learn, tqdm) computes every
non-neural estimate; the extras add the rest:

* ``torch``: neural estimators (MINE, NWJ, InfoNCE, SMILE, the autoencoder of compressed KSG),
  probes, the information plane's training, attention and uncertainty tools, MNIST-1D;
* ``apps``: the Panel apps (``workbench serve``) and the HoloViews/matplotlib plots;
* ``notebooks``: JupyterLab with ipywidgets, the apps served through the Jupyter server;
* ``dask``: Dask schedulers for ``workbench bench`` and sweeps (``scheduler="sync"`` needs none);
* ``all``: everything.
"""
from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import MissingDependencyError

#: Top-level module name -> the extra that installs it.
EXTRA_OF = {
    "torch": "torch", "mnist1d": "torch", "lightning": "lightning",
    "panel": "apps", "holoviews": "apps", "bokeh": "apps", "matplotlib": "apps",
    "distributed": "dask", "dask": "dask",
    "ipywidgets": "notebooks", "jupyter_bokeh": "notebooks", "jupyterlab": "notebooks",
}


def missing(module: str, feature: str, hint: str = "") -> MissingDependencyError:
    """The error for ``feature`` needing the uninstalled top-level ``module``."""
    module = module.split(".")[0]
    extra = EXTRA_OF.get(module, "all")
    err = MissingDependencyError(
        f"{feature} needs {module}, which is not installed: pip install 'workbench[{extra}]'"
        + (f" ({hint})" if hint else ""))
    err.name = module
    return err


def installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (cheap: finds its spec)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or an import blocked
        return False


def require(module: str, feature: str, hint: str = ""):
    """Import ``module`` and return it, or raise :func:`missing`'s error."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != module.split(".")[0]:
            raise  # the package is there but broken: show the real error
        raise missing(module, feature, hint) from exc


@contextmanager
def needs_extras(feature: str, hint: str = "") -> Iterator[None]:
    """Turn a ``ModuleNotFoundError`` for an optional package, raised anywhere inside the
    block, into :class:`MissingDependencyError` naming the extra (once: inner errors of that
    type pass through)."""
    try:
        yield
    except MissingDependencyError:
        raise
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        if top not in EXTRA_OF:
            raise
        raise missing(top, feature, hint) from exc


__all__ = ["EXTRA_OF", "installed", "missing", "require", "needs_extras"]
