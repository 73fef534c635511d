"""workbench: an interactive, notebook-first information-theory workbench for machine learning.

Front door::

    import workbench as wb
    wb.mutual_info(x, y, method="ksg", units="bits", k=3)
    wb.entropy(x, method="auto")
    wb.methods()

Estimates are :class:`~workbench.units.Estimate` floats that carry ``.units`` and ``.method``.
"""
from .api import (
    AutoChoice,
    choose_method,
    conditional_mutual_info,
    entropy,
    make_estimator,
    methods,
    methods_table,
    mutual_info,
)
from .errors import (
    EstimationError,
    FileLoadError,
    InputError,
    KnobError,
    MissingDependencyError,
    NotSupportedError,
    UnknownMethodError,
    WorkbenchError,
)
from .measures.multivariate import (
    dual_total_correlation,
    interaction_information,
    multiplets,
    o_information,
    rajski_distance,
    s_information,
    shannon_distance,
    total_correlation,
)
from .measures.pid import PID, pid, pid_from_pmf
from .measures.stats import BootstrapResult, PermutationResult, bootstrap_ci, permutation_test
from .measures.timeseries import transfer_entropy
from .units import Estimate

__version__ = "0.1.0"

#: Names importable from ``workbench`` whose modules import torch, pandas-heavy code or
#: ipywidgets (``explore``); they load on first use so ``import workbench`` stays light.
_LAZY = {
    "attention_entropy": "attention.entropy", "AttentionRecorder": "attention.recorder",
    "decompose": "uncertainty.decomposition", "InformationPlane": "tracking.plane",
    "RunStore": "runs", "RepresentationTracker": "tracking.representation",
    "intrinsic_dimension": "measures.geometry", "local_rank": "measures.geometry",
    "spectrum_slope": "measures.geometry", "condition_number": "measures.geometry",
    "sae_features": "measures.geometry",
    # a module named after the function would shadow it once imported: hence "explorer"
    "explore": "explorer", "Explorer": "explorer",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        from .extras import needs_extras

        with needs_extras(f"workbench.{name}"):
            return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")

__all__ = [
    "entropy", "mutual_info", "conditional_mutual_info", "methods", "methods_table",
    "choose_method", "AutoChoice", "make_estimator", "bootstrap_ci", "permutation_test",
    "BootstrapResult", "PermutationResult", "Estimate", "WorkbenchError", "InputError",
    "KnobError", "UnknownMethodError", "NotSupportedError", "FileLoadError", "EstimationError",
    "MissingDependencyError",
    "total_correlation", "dual_total_correlation", "o_information", "shannon_distance",
    "rajski_distance", "transfer_entropy", "pid", "pid_from_pmf", "PID",
    "s_information", "interaction_information", "multiplets", *_LAZY,
]
