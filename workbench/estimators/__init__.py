"""Estimator registry. Each family lives in its own module and registers its classes with
:func:`register`; modules are imported lazily on first look-up so ``import workbench`` stays
light (torch is only imported by the families that need it)."""
from __future__ import annotations

import importlib

from ..errors import UnknownMethodError
from .base import Estimator

#: Modules that hold estimator families, in the order methods() lists them.
FAMILY_MODULES = ("discrete", "binning", "knn", "kernel", "gaussian", "matrix", "diffusion",
                  "neural", "compressed", "hybrid", "score")

_REGISTRY: dict[str, type[Estimator]] = {}
_loaded = False


def register(cls: type[Estimator]) -> type[Estimator]:
    """Class decorator: make ``cls`` reachable by its ``name``."""
    if not cls.method_name:
        raise TypeError(f"{cls.__name__} has no method name")
    _REGISTRY[cls.method_name] = cls
    return cls


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    for mod in FAMILY_MODULES:
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as exc:  # a family not written yet
            if exc.name != f"{__name__}.{mod}":
                raise
    _loaded = True


def _family_rank(cls: type[Estimator]) -> int:
    # workbench.estimators.<family>[.<module>]: a family may be a subpackage (neural)
    module = cls.__module__[len(__name__) + 1:].split(".", 1)[0]
    return FAMILY_MODULES.index(module) if module in FAMILY_MODULES else len(FAMILY_MODULES)


def registry() -> dict[str, type[Estimator]]:
    """All registered estimator classes by method name, family by family in the order of
    FAMILY_MODULES (modules may be imported in any order; one family imports another)."""
    _load_all()
    ordered = sorted(_REGISTRY.items(), key=lambda item: _family_rank(item[1]))  # stable
    return dict(ordered)


def get_estimator_class(method: str) -> type[Estimator]:
    """The estimator class registered as ``method``."""
    _load_all()
    cls = _REGISTRY.get(method)  # a dict look-up: every estimate starts here
    if cls is not None:
        return cls
    reg = registry()
    if method not in reg:
        raise UnknownMethodError(
            f"unknown method {method!r}; available: {', '.join(sorted(reg))} (or 'auto')")
    return reg[method]


def families_supporting(quantity: str) -> list[str]:
    """Names of methods that implement ``quantity``."""
    return [n for n, c in registry().items() if c.supports(quantity)]


__all__ = ["Estimator", "register", "registry", "get_estimator_class", "families_supporting"]
