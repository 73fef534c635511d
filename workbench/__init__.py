"""workbench: an interactive, notebook-first information-theory workbench for machine learning.

Front door::

    import workbench as wb
    wb.mutual_info(x, y, method="ksg", units="bits", k=3)
    wb.entropy(x, method="auto")
    wb.methods()

Estimates are :class:`~workbench.units.Estimate` floats that carry ``.units`` and ``.method``.
"""
from .api import (AutoChoice, choose_method, conditional_mutual_info, entropy, make_estimator,
                  methods, methods_table, mutual_info)
from .errors import (EstimationError, FileLoadError, InputError, KnobError, NotSupportedError,
                     UnknownMethodError, WorkbenchError)
from .stats import BootstrapResult, PermutationResult, bootstrap_ci, permutation_test
from .units import Estimate

__version__ = "0.1.0"

__all__ = [
    "entropy", "mutual_info", "conditional_mutual_info", "methods", "methods_table",
    "choose_method", "AutoChoice", "make_estimator", "bootstrap_ci", "permutation_test",
    "BootstrapResult", "PermutationResult", "Estimate", "WorkbenchError", "InputError",
    "KnobError", "UnknownMethodError", "NotSupportedError", "FileLoadError", "EstimationError",
]
