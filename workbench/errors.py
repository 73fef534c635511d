"""One exception family for everything workbench rejects.

Every class derives from :class:`WorkbenchError`, itself a :class:`ValueError`, so
``except ValueError`` keeps working in user code. Messages say what was wrong and how to fix it.
"""
from __future__ import annotations


class WorkbenchError(ValueError):
    """Base class of every error raised by workbench on bad input or bad settings."""


class InputError(WorkbenchError):
    """The data handed in cannot be used: wrong shape, non-finite, non-numeric, too small..."""


class KnobError(WorkbenchError):
    """An estimator knob is unknown or outside its bounds."""


class UnknownMethodError(WorkbenchError):
    """No estimator is registered under the requested method name."""


class NotSupportedError(WorkbenchError, NotImplementedError):
    """The chosen estimator family cannot compute the requested quantity."""


class FileLoadError(WorkbenchError):
    """A user file could not be read safely (format, size, content)."""


class EstimationError(WorkbenchError):
    """The estimate itself failed (e.g. produced a non-finite number) for these data."""


class MissingDependencyError(WorkbenchError, ModuleNotFoundError):
    """An optional package is not installed; the message names the extra that installs it
    (``pip install 'workbench[torch]'``). Also a :class:`ModuleNotFoundError`, so code that
    guards optional imports with ``except ImportError`` keeps working."""
