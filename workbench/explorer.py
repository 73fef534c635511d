"""``workbench.explore(x, y)``: an estimate with a widget for each of its estimator's knobs, in
plain ipywidgets, for classroom notebook cells.

Move a slider and the estimate is computed again::

    import workbench as wb
    wb.explore(x, y, method="ksg")          # I(X;Y) in bits, with a slider for k
    wb.explore(x, method="kl", units="nats")  # H(X)

The widgets come from the same ``param`` declarations as the apps' knob panels
(:meth:`Estimator.knob_names`: precedence orders them, execution settings are left out; the
label names them, ``softbounds`` size the sliders, the doc is the tooltip), so a knob declared
once appears the same in the CLI, the Panel apps and here. The number itself comes from
:meth:`Estimator.entropy` / ``mutual_info`` / ``conditional_mutual_info`` with the validation
and units of every other estimate.

Why this lives in the core package although it builds widgets: it is a notebook helper that
needs only ipywidgets (no Panel, no Bokeh, no server), so it works wherever the Jupyter widget
protocol does (JupyterLab, classic notebook, VS Code, Colab) and in a core install plus
ipywidgets. ipywidgets is imported only when :func:`explore` is called, so
``import workbench`` neither needs nor loads it; without it the call raises an ImportError
naming the extra to install.
"""
from __future__ import annotations

import html
from typing import Any

import param

from .api import auto_choice, make_estimator
from .errors import WorkbenchError
from .estimators import get_estimator_class, registry
from .estimators.base import QUANTITY_SYMBOLS, Estimator
from .units import UNITS, check_units

_QUANTITIES = {1: "entropy", 2: "mutual_info", 3: "conditional_mutual_info"}


def _ipywidgets():
    from .extras import require

    return require("ipywidgets", "workbench.explore")


def knob_widget(estimator: Estimator, name: str):
    """The ipywidget for knob ``name`` of ``estimator``, set to its current value.

    A number with both soft bounds (and, for a float, a declared ``step``) gets a slider over
    the soft bounds (widened to hold the current value); other numbers a text box (empty means
    None where None is allowed; the estimator checks the hard bounds and the page shows its
    message rather than clamping silently); booleans a checkbox; selectors a dropdown;
    strings a text box. Each carries the CSS class ``wb-explore-knob-{name}``."""
    w = _ipywidgets()
    p = estimator.param[name]
    value = getattr(estimator, name)
    common = {"description": p.label, "tooltip": (p.doc or "").strip() or None,
              "style": {"description_width": "initial"},
              "layout": w.Layout(width="min(100%, 420px)")}
    if isinstance(p, param.Boolean):
        widget = w.Checkbox(value=bool(value), indent=False, **common)
    elif isinstance(p, param.Selector):
        widget = w.Dropdown(options=list(p.objects), value=value, **common)
    elif isinstance(p, param.Number):
        low, high = p.get_soft_bounds()
        is_int = isinstance(p, param.Integer)
        slider = (low is not None and high is not None and value is not None
                  and not p.allow_None and (is_int or p.step is not None))
        if slider:
            low, high = min(low, value), max(high, value)
            kind = w.IntSlider if is_int else w.FloatSlider
            step = (p.step or 1) if is_int else p.step
            # re-estimate once the slider is let go, not on every pixel of a drag
            widget = kind(value=value, min=low, max=high, step=step, continuous_update=False,
                          **common)
        else:
            widget = w.Text(value="" if value is None else str(value), continuous_update=False,
                            placeholder="None (automatic)" if p.allow_None else "", **common)
    else:
        widget = w.Text(value="" if value is None else str(value), continuous_update=False,
                        **common)
    widget.add_class(f"wb-explore-knob-{name}")
    return widget


def parse_knob(estimator_class: type[Estimator], name: str, text: Any) -> Any:
    """A knob value from a widget: text boxes of numbers give numbers (``""`` gives None
    where the declaration allows it); anything else passes through unchanged."""
    p = estimator_class.param[name]
    if not isinstance(text, str) or not isinstance(p, param.Number):
        return text
    text = text.strip()
    if text == "" and p.allow_None:
        return None
    kind = int if isinstance(p, param.Integer) else float
    try:
        return kind(text)
    except ValueError:
        raise WorkbenchError(f"{name} must be {'an integer' if kind is int else 'a number'}, "
                             f"got {text!r}") from None


class Explorer:
    """The object :func:`explore` returns: displays as its ipywidget (``.widget``); the
    current ``.estimate`` (an :class:`~workbench.units.Estimate`, ``None`` after an error),
    ``.error`` and ``.knobs`` can be read, and :meth:`set` moves knobs from code."""

    def __init__(self, *data, method: str = "auto", units: str = "bits", **knobs: Any):
        self._w = _ipywidgets()
        if not 1 <= len(data) <= 3:
            raise WorkbenchError("explore takes x (entropy), x, y (mutual information) or "
                                 "x, y, z (conditional mutual information)")
        self.data = data
        self.quantity = _QUANTITIES[len(data)]
        units = check_units(units)
        self.reason = ""
        if method == "auto":
            choice = auto_choice(self.quantity, knobs, *data)
            method, knobs, self.reason = choice.method, choice.knobs, choice.reason
        cls = get_estimator_class(method)
        if not cls.supports(self.quantity):
            raise WorkbenchError(f"method {method!r} cannot estimate {self.quantity}; methods "
                                 f"that can: {self.methods()}")
        self.estimate = None
        self.error = ""
        w = self._w
        self._method_w = w.Dropdown(options=self.methods(), value=method, description="method",
                                    tooltip="Estimator (the knobs below are its own)")
        self._method_w.add_class("wb-explore-method")
        self._units_w = w.ToggleButtons(options=list(UNITS), value=units,
                                        tooltip="Units of the estimate")
        self._units_w.add_class("wb-explore-unit-choice")
        self._value_w = w.HTML()
        self._value_w.add_class("wb-explore-result")
        self._knob_box = w.VBox()
        self._knob_box.add_class("wb-explore-knobs")
        self.widget = w.VBox([w.HBox([self._method_w, self._units_w]), self._value_w,
                              self._knob_box])
        self.widget.add_class("wb-explore")
        self._build(method, knobs)
        if self.error:  # bad data or knobs given in code: say so there, not in a widget
            raise WorkbenchError(self.error)
        self._method_w.observe(self._on_method, names="value")
        self._units_w.observe(lambda _change: self.refresh(), names="value")

    # ----- public ----------------------------------------------------------------------------
    @property
    def method(self) -> str:
        return self._method_w.value

    @property
    def units(self) -> str:
        return self._units_w.value

    @property
    def knobs(self) -> dict:
        """The knob values the last estimate used (or tried)."""
        return dict(self._knobs)

    def methods(self) -> list[str]:
        """Registered methods that compute this quantity."""
        return [name for name, cls in registry().items() if cls.supports(self.quantity)]

    def set(self, method: str | None = None, units: str | None = None, **knobs: Any) -> None:
        """Move widgets from code (as a user would): each change re-estimates."""
        if method is not None:
            self._method_w.value = method
        if units is not None:
            self._units_w.value = check_units(units)
        for name, value in knobs.items():
            if name not in self._knob_widgets:
                raise WorkbenchError(f"{self.method!r} has no knob {name!r}; its knobs are "
                                     f"{list(self._knob_widgets)}")
            widget = self._knob_widgets[name]
            widget.value = str(value) if isinstance(widget, self._w.Text) else value

    def refresh(self) -> None:
        """Estimate again with the widgets' values and show the result (or the error)."""
        cls = get_estimator_class(self.method)
        try:
            self._knobs = {name: parse_knob(cls, name, widget.value)
                           for name, widget in self._knob_widgets.items()}
            est = make_estimator(self.method, **self._knobs)
            compute = getattr(est, self.quantity)
            self.estimate, self.error = compute(*self.data, units=self.units), ""
        except (WorkbenchError, ValueError, TypeError) as exc:
            self.estimate, self.error = None, str(exc)
        self._value_w.value = self._html()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # ----- internals -------------------------------------------------------------------------
    def _build(self, method: str, knobs: dict) -> None:
        """Knob widgets for ``method`` (starting from ``knobs`` over its defaults), then the
        first estimate."""
        self._knob_widgets = {}
        self._knobs = dict(knobs)
        try:
            est = make_estimator(method, **knobs)
        except WorkbenchError as exc:
            self.estimate, self.error = None, str(exc)
            self._knob_box.children = []
            self._value_w.value = self._html()
            return
        for name in type(est).knob_names():
            widget = knob_widget(est, name)
            widget.observe(lambda _change: self.refresh(), names="value")
            self._knob_widgets[name] = widget
        self._knob_box.children = list(self._knob_widgets.values()) or [
            self._w.HTML("<i>This method has no knobs.</i>")]
        self.refresh()

    def _on_method(self, change) -> None:
        self.reason = ""
        self._build(change["new"], {})

    def _html(self) -> str:
        symbol = QUANTITY_SYMBOLS[self.quantity]
        if self.estimate is None:
            return (f'<div class="wb-explore-error" style="color:#a94442">{symbol}: '
                    f"{html.escape(self.error)}</div>")
        r = self.estimate
        auto = (f'<div class="wb-explore-reason" style="color:#555">auto chose '
                f"{html.escape(self.method)}: {html.escape(self.reason)}</div>"
                if self.reason else "")
        n = len(self.data[0])
        return (f'<div class="wb-explore-estimate">{symbol} = '
                f'<b class="wb-explore-value" style="font-size:1.4em">{float(r):.4f}</b> '
                f'<span class="wb-explore-units">{html.escape(r.units)}</span> '
                f'<span style="color:#555">by {html.escape(r.method)}, n = {n}</span></div>'
                + auto)


def explore(x: Any, y: Any = None, z: Any = None, method: str = "auto", units: str = "bits",
            **knobs: Any) -> Explorer:
    """An estimate that re-computes as its knobs' widgets move (ipywidgets; no Bokeh).

    ``x`` alone: the entropy H(X); ``x, y``: the mutual information I(X;Y); ``x, y, z``: the
    conditional mutual information I(X;Y|Z), by ``method`` (``"auto"`` picks one by
    :func:`workbench.choose_method` and says why; the dropdown switches) in ``units``
    (bits or nats, a toggle). ``knobs`` set the starting values. Bad data or knobs given here
    raise :class:`~workbench.errors.WorkbenchError`; values set later in the widgets show their
    message in place of the estimate. Needs ipywidgets (``pip install
    'workbench[notebooks]'``). In a notebook cell::

        import numpy as np, workbench as wb
        x = np.random.default_rng(0).normal(size=(1000, 1))
        wb.explore(x, x + np.random.default_rng(1).normal(size=(1000, 1)), method="ksg")
    """
    data = [a for a in (x, y, z) if a is not None]
    if z is not None and y is None:
        raise WorkbenchError("explore got z without y: the conditional mutual information "
                             "I(X;Y|Z) needs x, y and z")
    return Explorer(*data, method=method, units=units, **knobs)
