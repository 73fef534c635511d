"""The estimator interface.

An estimator is a :class:`param.Parameterized` class: every knob is a typed, bounded
``param`` Parameter with a doc string. Panel builds widgets from the same declarations
(``pn.Param``), the CLI builds its flags from them, and knob validation happens in one place.

Knobs and execution settings. A *knob* changes the number an estimator computes (``k``,
``sigma``, ``steps``); an *execution setting* changes only how it is computed (``device``,
``threads``, ``progress``, ``callback``, ``backend``). Both are declared as Parameters and both
are accepted as keyword arguments, but execution settings carry
``precedence=EXECUTION_PRECEDENCE`` (below zero, so ``pn.Param`` hides them), and
:meth:`Estimator.is_knob` is the one rule every consumer (``methods()``, CLI flags, the Lab's
sweeps, the apps' knob panels, labels and ``Estimate.knobs``) uses to tell them apart.
Precedence also orders the knobs (lower first; declaration order otherwise), ``softbounds`` give
sliders a useful range and ``label`` a readable name.

Value rules on top of param's own: numpy scalars are taken as the Python numbers they hold;
a bool is refused where a number is declared (``k=True``); a Number refuses NaN, and refuses an
infinite value unless its declared bounds name that infinity (``bounds=(0, math.inf)``).

Subclasses set the class attributes ``method_name`` (the method name users type), ``family``,
``summary`` and ``references``, and implement any of ``_entropy``, ``_mutual_info`` and
``_conditional_mutual_info`` on validated 2-D float64 arrays, returning **nats**. The public
methods validate input, convert units and never return NaN.
"""
from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import param

from ..errors import EstimationError, KnobError, NotSupportedError
from ..extras import needs_extras
from ..torch_utils import check_device_name
from ..units import DEFAULT_UNITS, Estimate, check_units, from_nats
from ..validation import as_samples, check_same_length, subsample_rows

QUANTITIES = ("entropy", "mutual_info", "conditional_mutual_info")
QUANTITY_SYMBOLS = {"entropy": "H(X)", "mutual_info": "I(X;Y)",
                    "conditional_mutual_info": "I(X;Y|Z)"}

#: ``precedence`` of execution settings: below pn.Param's display threshold (0), and below
#: every knob. A Parameter with a negative precedence is an execution setting, not a knob.
EXECUTION_PRECEDENCE = -1.0
#: ``precedence`` of the sampling knobs (seed, max_samples): listed after the others.
SAMPLING_PRECEDENCE = 0.9
#: Bounds of a kernel width or noise scale in the data's units: beyond them its square
#: under- or overflows float64, and the kernel turns into NaN or a constant.
SCALE_BOUNDS = (1e-100, 1e100)


class Device(param.String):
    """An execution setting naming a torch device ("cpu", "cuda", "cuda:1", "mps"). The name is
    checked when it is set (:func:`workbench.torch_utils.check_device_name`), so a bad one fails
    with a KnobError at once, even in a configuration that never uses the device."""

    def _validate_value(self, value, allow_None):
        super()._validate_value(value, allow_None)
        if value is not None:
            check_device_name(value)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python bool, int or float it holds (other values unchanged), so
    knobs from numpy code (``seed=np.int64(3)``) behave and print like typed-in ones."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


class Estimator(param.Parameterized):
    """Base class of all estimators. Knobs are the class's ``param`` Parameters."""

    method_name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    references: ClassVar[str] = ""
    #: "continuous", "discrete" or "any": what kind of data the estimator is meant for.
    data_kind: ClassVar[str] = "continuous"
    #: Integer (discrete) estimators keep integer dtypes; continuous ones get float64.
    integer_input: ClassVar[bool] = False
    #: True when repeated rows bias the estimate (kNN, kernels): bootstrap_ci then subsamples
    #: without replacement instead of resampling with replacement.
    duplicate_sensitive: ClassVar[bool] = False

    def __init__(self, **knobs: Any):
        """Knobs and execution settings by name; a bad name or value raises KnobError."""
        unknown = sorted(set(knobs) - set(self.knob_names()) - set(self.setting_names()))
        if unknown:
            settings = self.setting_names()
            raise KnobError(
                f"unknown knob(s) {unknown} for method {self.method_name!r}; its knobs are "
                f"{self.knob_names() or 'none'}"
                + (f" and its execution settings {settings}" if settings else ""))
        knobs = {k: _plain(v) for k, v in knobs.items()}
        for k, v in knobs.items():
            self._check_value(k, v)
        try:
            super().__init__(**knobs)
        except (ValueError, TypeError) as exc:
            raise KnobError(f"bad knob value for method {self.method_name!r}: {exc}") from exc

    # ----- introspection -------------------------------------------------------------
    @classmethod
    def is_knob(cls, pname: str) -> bool:
        """Whether Parameter ``pname`` is a knob (changes the number) rather than an execution
        setting (``precedence < 0``: device, threads, progress, callback, backend) or param's
        own ``name``. The one rule that every listing, flag, sweep and widget follows."""
        p = cls.param[pname]
        return pname != "name" and (p.precedence is None or p.precedence >= 0)

    @classmethod
    def _ordered(cls, names: list[str]) -> list[str]:
        # by precedence, lower first; declaration order among equals (sorted is stable)
        return sorted(names, key=lambda n: cls.param[n].precedence or 0.0)

    @classmethod
    def knob_names(cls) -> list[str]:
        """Names of the knobs, in display order (precedence, then declaration)."""
        return list(cls._names()[0])

    @classmethod
    def setting_names(cls) -> list[str]:
        """Names of the execution settings (accepted as keywords, never knobs)."""
        return list(cls._names()[1])

    @classmethod
    def _names(cls) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(knob names, setting names), computed once per class (each class keeps its own:
        a subclass may add Parameters): construction, check_knobs, label and knobs all ask
        for them, and walking param's Parameters every time cost about a fifth of a
        millisecond-sized estimate. Parameters are declared in class bodies; nothing adds or
        re-ranks them later."""
        cached = cls.__dict__.get("_names_cache")
        if cached is None:
            cached = (tuple(cls._ordered([p for p in cls.param if cls.is_knob(p)])),
                      tuple(p for p in cls.param if p != "name" and not cls.is_knob(p)))
            cls._names_cache = cached
        return cached

    @classmethod
    def supports(cls, quantity: str) -> bool:
        private = "_" + quantity
        return getattr(cls, private, None) is not getattr(Estimator, private, None)

    @classmethod
    def quantities(cls) -> list[str]:
        return [q for q in QUANTITIES if cls.supports(q)]

    @classmethod
    def describe_knobs(cls, names: list[str] | None = None) -> list[dict]:
        """Each knob's (or each of ``names``') name, label, type, default, bounds, soft
        bounds, allowed objects and doc."""
        out = []
        for pname in cls.knob_names() if names is None else names:
            p = cls.param[pname]
            entry = {"name": pname, "label": p.label, "type": type(p).__name__,
                     "default": p.default, "doc": (p.doc or "").strip()}
            for key in ("bounds", "softbounds"):
                value = getattr(p, key, None)
                if value is not None:
                    entry[key] = list(value)
            objects = getattr(p, "objects", None)
            if objects:
                entry["objects"] = list(objects)
            out.append(entry)
        return out

    @classmethod
    def describe_settings(cls) -> list[dict]:
        """The execution settings, described like :meth:`describe_knobs`."""
        return cls.describe_knobs(cls.setting_names())

    def knobs(self) -> dict:
        """Current knob values (execution settings left out: they do not change the number)."""
        return {k: getattr(self, k) for k in self.knob_names()}

    def check_knobs(self) -> None:
        """Apply the value rules to the current knobs and settings: values set after
        construction (widgets, attribute assignment) pass param's bounds but not ours."""
        for k in [*self.knob_names(), *self.setting_names()]:
            self._check_value(k, getattr(self, k))

    @classmethod
    def _check_value(cls, pname: str, value: Any) -> None:
        """KnobError for a bool where a number is declared, or a non-finite number that the
        declared bounds do not name."""
        p = cls.param[pname]
        if not isinstance(p, param.Number):
            return
        if isinstance(value, (bool, np.bool_)):
            raise KnobError(f"{pname} of {cls.method_name!r} is a number, got {value!r}")
        if isinstance(value, (float, np.floating)) and not math.isfinite(value) \
                and value not in (p.bounds or ()):
            raise KnobError(f"{pname} of {cls.method_name!r} must be a finite number, "
                            f"got {value!r}")

    def label(self) -> str:
        """``name(knob=value, ...)`` listing knobs that differ from their defaults."""
        # the class's Parameters: an instance's own copies (param makes one per value set)
        # have the same defaults, and looking them up on the instance instantiates the rest
        cls = type(self)
        changed = {k: v for k, v in self.knobs().items() if v != cls.param[k].default}
        inner = ", ".join(f"{k}={v}" for k, v in changed.items())
        return f"{self.method_name}({inner})" if inner else self.method_name

    # ----- validation hooks ------------------------------------------------------------
    def min_samples(self) -> int:
        """Fewest rows this estimator accepts with its current knobs."""
        return 2

    def _prepare(self, x: Any, name: str) -> np.ndarray:
        return as_samples(x, name, min_samples=self.min_samples(),
                          dtype=None if self.integer_input else np.float64)

    def _check_result(self, value: float, quantity: str) -> float:
        value = float(value)
        if not math.isfinite(value):
            raise EstimationError(
                f"{self.method_name} produced a non-finite {quantity} ({value}) for these data; "
                "try "
                "another method or check the data for duplicates and constant columns")
        return value

    def _finish(self, value_nats: float, units: str, quantity: str) -> Estimate:
        value = self._check_result(value_nats, quantity)
        return Estimate(from_nats(value, units), units, self.label(), QUANTITY_SYMBOLS[quantity],
                        self.knobs())

    def _compute(self, fn, *arrays) -> float:
        # an optional package (torch for the neural families) is imported only when a family
        # first computes: its absence becomes an error that names the extra to install
        with needs_extras(f"method {self.method_name!r}"):
            return fn(*arrays)

    def _unsupported(self, quantity: str):
        from . import families_supporting  # late import: registry imports this module

        raise NotSupportedError(
            f"method {self.method_name!r} ({self.family}) cannot compute {quantity}; "
            "methods that can: "
            f"{', '.join(families_supporting(quantity))}")

    # ----- public API ------------------------------------------------------------------
    def entropy(self, x: Any, units: str = DEFAULT_UNITS) -> Estimate:
        """Entropy of ``x`` (rows are samples) in ``units``."""
        check_units(units)
        self.check_knobs()
        if not self.supports("entropy"):
            self._unsupported("entropy")
        return self._finish(self._compute(self._entropy, self._prepare(x, "x")), units,
                            "entropy")

    def mutual_info(self, x: Any, y: Any, units: str = DEFAULT_UNITS) -> Estimate:
        """Mutual information I(X;Y) in ``units``."""
        check_units(units)
        self.check_knobs()
        if not self.supports("mutual_info"):
            self._unsupported("mutual_info")
        xa, ya = self._prepare(x, "x"), self._prepare(y, "y")
        check_same_length(x=xa, y=ya)
        return self._finish(self._compute(self._mutual_info, xa, ya), units, "mutual_info")

    def conditional_mutual_info(self, x: Any, y: Any, z: Any,
                                units: str = DEFAULT_UNITS) -> Estimate:
        """Conditional mutual information I(X;Y|Z) in ``units``."""
        check_units(units)
        self.check_knobs()
        if not self.supports("conditional_mutual_info"):
            self._unsupported("conditional_mutual_info")
        xa, ya, za = self._prepare(x, "x"), self._prepare(y, "y"), self._prepare(z, "z")
        check_same_length(x=xa, y=ya, z=za)
        return self._finish(self._compute(self._conditional_mutual_info, xa, ya, za), units,
                            "conditional_mutual_info")

    # ----- to implement (nats, validated arrays) ------------------------------------------
    def _entropy(self, x: np.ndarray) -> float:  # pragma: no cover - marker
        raise NotImplementedError

    def _mutual_info(self, x: np.ndarray, y: np.ndarray) -> float:  # pragma: no cover
        raise NotImplementedError

    def _conditional_mutual_info(self, x, y, z) -> float:  # pragma: no cover
        raise NotImplementedError


class Seeded(param.Parameterized):
    """Mixin for stochastic estimators: same seed, same number."""

    seed = param.Integer(default=0, bounds=(0, None), precedence=SAMPLING_PRECEDENCE,
                         doc="Random seed; same seed, same number.")


class Subsampled(Seeded):
    """Mixin for estimators whose cost grows fast with n: at most ``max_samples`` rows, a
    seeded random subset, are used."""

    max_samples = param.Integer(
        default=None, allow_None=True, bounds=(2, None), precedence=SAMPLING_PRECEDENCE,
        doc="Use at most this many rows (a seeded random subset); None uses every row.")

    def _subsample(self, *arrays: np.ndarray) -> list[np.ndarray]:
        """The same seeded subset of rows of every array (all of them when n <= max_samples)."""
        idx = subsample_rows(len(arrays[0]), self.max_samples, self.seed)
        return [a if idx is None else a[idx] for a in arrays]


class TorchBackend(param.Parameterized):
    """Mixin for estimators whose O(n²)-shaped work (pairwise distances, neighbour counts, Gram
    matrices and their spectra, histogram codes) can run in torch on any device
    (:mod:`workbench.estimators.torch_backend`). Both settings are execution settings: they
    change where the numbers are computed, not the numbers (identical counts, spectra to
    float64 rounding)."""

    backend = param.Selector(default="numpy", objects=["numpy", "torch"],
                             precedence=EXECUTION_PRECEDENCE,
                             doc="Execution setting: 'numpy' (numpy/numba/scipy engines) or "
                                 "'torch' (dense blocks of pairwise work in torch, on "
                                 "``device``); same numbers.")
    device = Device(default="cpu", precedence=EXECUTION_PRECEDENCE,
                    doc="Execution setting: torch device, 'cpu', 'cuda', 'cuda:N' or 'mps'; "
                        "anything but 'cpu' implies backend='torch'.")

    def _use_torch(self) -> bool:
        return self.backend == "torch" or self.device != "cpu"

    def _torch_device(self) -> str | None:
        """The device name for :mod:`.torch_backend`, or None for the numpy engines."""
        return self.device if self._use_torch() else None
