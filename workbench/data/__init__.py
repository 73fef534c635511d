"""Small data files shipped with the package (no network at run time).

``alice.txt``: the first chapter and the start of the second of Lewis Carroll's *Alice's
Adventures in Wonderland* (1865, public domain), about 14 KB of English text, used to train the
tiny character transformer in :mod:`workbench.attention.transformer`.
"""
from __future__ import annotations

from importlib import resources

from ..errors import InputError

TEXTS = {"alice": "alice.txt"}


def load_text(name: str = "alice") -> str:
    """The shipped text called ``name`` (see ``TEXTS``) as a string."""
    if name not in TEXTS:
        raise InputError(f"no shipped text called {name!r}; available: {sorted(TEXTS)}")
    return resources.files(__name__).joinpath(TEXTS[name]).read_text(encoding="utf-8")
