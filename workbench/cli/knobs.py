"""Command-line flags built from an estimator's ``param`` declarations (one source of truth)."""
from __future__ import annotations

import argparse

import param

from ..errors import KnobError


def _bool(text: str) -> bool:
    low = text.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _none_or(conv):
    def parse(text: str):
        return None if text.lower() == "none" else conv(text)
    return parse


def _typed_settings(cls) -> list[str]:
    """Execution settings a command line can carry (not callables such as ``callback``)."""
    return [n for n in cls.setting_names() if not isinstance(cls.param[n], param.Callable)]


def add_knob_flags(parser: argparse.ArgumentParser, cls) -> None:
    """Add ``--KNOB VALUE`` (and ``--KNOB-NAME`` with dashes) for each knob of ``cls``, and the
    same for its execution settings that text can express (``--device``, ``--threads``; never
    ``--callback``), marked as such in their help. Knobs and settings are told apart by
    :meth:`Estimator.is_knob`."""
    settings = _typed_settings(cls)
    for entry in [*cls.describe_knobs(), *cls.describe_knobs(settings)]:
        name = entry["name"]
        p = cls.param[name]
        if isinstance(p, param.Boolean):
            conv = _bool
        elif isinstance(p, param.Integer):
            conv = int
        elif isinstance(p, param.Number):
            conv = float
        else:
            conv = str
        if getattr(p, "allow_None", False):
            conv = _none_or(conv)
        flags = [f"--{name}"] + ([f"--{name.replace('_', '-')}"] if "_" in name else [])
        kind = "execution setting: " if name in settings else ""
        kwargs = {"type": conv, "dest": name, "default": argparse.SUPPRESS,
                  "help": f"{kind}{entry['doc']} (default {entry['default']!r})"}
        objects = entry.get("objects")
        if objects and all(isinstance(o, str) for o in objects):
            kwargs["choices"] = objects
        parser.add_argument(*flags, **kwargs)


def parse_knobs(cls, extra: list[str]) -> dict:
    """Parse leftover ``--KNOB VALUE`` arguments for ``cls``; unknown flags raise KnobError."""
    parser = argparse.ArgumentParser(prog=f"knobs of {cls.method_name}", add_help=False,
                                     exit_on_error=False)
    add_knob_flags(parser, cls)
    try:
        ns, rest = parser.parse_known_args(extra)
    except (argparse.ArgumentError, argparse.ArgumentTypeError) as exc:
        raise KnobError(f"{exc}") from exc
    if rest:
        settings = _typed_settings(cls)
        raise KnobError(f"unknown option(s) {rest} for method {cls.method_name!r}; its knobs: "
                        f"{', '.join('--' + k for k in cls.knob_names()) or 'none'}"
                        + (f"; execution settings: {', '.join('--' + k for k in settings)}"
                           if settings else ""))
    return vars(ns)
