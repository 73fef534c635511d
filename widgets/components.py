"""Reusable Panel pieces: alert banners, a size-limited upload box, a knob panel built from an
estimator's ``param`` declarations, and plot panes. Each carries a stable CSS class (``wb-…``)
so browser tests and users' stylesheets can find it."""
from __future__ import annotations

import panel as pn
import param

from workbench.errors import WorkbenchError
from workbench.estimators.base import Estimator
from workbench.io import DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES

#: Stylesheet shared by the apps (result card, muted notes).
APP_CSS = """
.wb-result { font-family: var(--bokeh-base-font, sans-serif); line-height: 1.5; }
.wb-result .wb-symbol { color: #555; font-size: 0.95em; }
.wb-result .wb-big { font-size: 2.1em; font-weight: 600; color: #1f4e79; }
.wb-result .wb-estimate-units { font-size: 0.55em; color: #555; margin-left: 0.25em; }
.wb-result .wb-row { color: #333; }
.wb-result .wb-muted { color: #777; font-size: 0.9em; }
"""


def error_message(exc: BaseException) -> str:
    """What a banner says about ``exc``: our errors verbatim, anything else with its type."""
    if isinstance(exc, WorkbenchError):
        return str(exc)
    return f"Unexpected error ({type(exc).__name__}): {exc}"


#: Header colour of every served page.
HEADER_COLOR = "#1f4e79"


class TwoPaneApp(pn.viewable.Viewer):
    """An app made of a settings column (``_controls``, a template's sidebar) and a main area
    (``_output``); in a notebook cell they sit side by side."""

    @property
    def controls(self) -> pn.Column:
        """The settings column (a template's sidebar)."""
        return self._controls

    @property
    def output(self) -> pn.Column:
        """The main area: banners, results and plots."""
        return self._output

    def __panel__(self):
        return pn.Row(self._controls, self._output, sizing_mode="stretch_width")

    def close(self) -> None:
        """Stop background work (the page or the notebook went away)."""

    def page(self, title: str) -> pn.template.BootstrapTemplate:
        """This app as a served page: settings in the sidebar, the rest in the main area;
        :meth:`close` runs when the browser tab closes."""
        pn.state.on_session_destroyed(lambda _ctx: self.close())
        return pn.template.BootstrapTemplate(
            title=title, sidebar=[self._controls], main=[self._output], sidebar_width=360,
            header_background=HEADER_COLOR)


def param_widget(owner: param.Parameterized, kind, pname: str, label: str, css: str,
                 **extra):
    """A ``kind`` widget bound to ``owner``'s parameter ``pname``, labelled ``label``, with the
    CSS class ``wb-{css}`` (what the browser tests look for), stretching to the width."""
    return kind.from_param(owner.param[pname], name=label, css_classes=[f"wb-{css}"],
                           **{"sizing_mode": "stretch_width", **extra})


def alert(alert_type: str, css_class: str) -> pn.pane.Alert:
    """A hidden banner; :func:`set_alert` shows it with a message or hides it again."""
    return pn.pane.Alert("", alert_type=alert_type, visible=False, css_classes=[css_class],
                         sizing_mode="stretch_width", margin=(5, 10))


def set_alert(banner: pn.pane.Alert, message: str) -> None:
    """Show ``message`` in ``banner``; an empty message hides it."""
    banner.object = message
    banner.visible = bool(message)


def _megabytes(n_bytes: int) -> str:
    """Size in MB of 2**20 bytes (what --max-upload-mb counts), to 3 significant digits."""
    return f"{n_bytes / 2**20:.3g} MB"


class UploadBox(pn.viewable.Viewer):
    """A file picker for ``.npy``/``.npz``/``.csv`` that keeps the bytes in memory (nothing is
    written to disk) and rejects files over ``max_bytes`` before anything parses them."""

    data = param.Bytes(default=None, allow_None=True, doc="Bytes of the accepted file.")
    filename = param.String(default="", doc="Name of the accepted file.")
    error = param.String(default="", doc="Why the last file was refused ('' when accepted).")
    max_bytes = param.Integer(default=DEFAULT_MAX_BYTES, bounds=(1, None), constant=True,
                              doc="Largest accepted file, in bytes.")

    def __init__(self, label: str, css_class: str, **params):
        super().__init__(**params)
        self._input = pn.widgets.FileInput(accept=",".join(SUPPORTED_SUFFIXES), multiple=False,
                                           css_classes=[css_class], sizing_mode="stretch_width")
        self._input.param.watch(self._on_upload, "value")
        limit = _megabytes(self.max_bytes)
        self._label = pn.pane.Markdown(f"{label} <small>(.npy, .npz, .csv; at most {limit})"
                                       "</small>", margin=(0, 10))
        self._layout = pn.Column(self._label, self._input, sizing_mode="stretch_width")

    def accept(self, data: bytes | None, filename: str) -> None:
        """Take a file's bytes (what the widget does on upload; also for scripts and tests)."""
        if data is not None and len(data) > self.max_bytes:
            self.param.update(data=None, filename="", error=(
                f"{filename!r} is {_megabytes(len(data))}, over the {_megabytes(self.max_bytes)} "
                "upload limit; subsample it first"))
            return
        self.param.update(data=data, filename=filename or "", error="")

    def clear(self) -> None:
        self.param.update(data=None, filename="", error="")
        self._input.param.update(value=None, filename=None)

    def _on_upload(self, event) -> None:
        if event.new is not None:
            self.accept(event.new, self._input.filename or "upload")

    def __panel__(self):
        return self._layout


def knob_widgets(estimator: Estimator, css_prefix: str = "wb-knob") -> dict:
    """Widget choices for an estimator's knobs (never its execution settings), from their
    declarations: an integer with both soft bounds gets a slider-plus-box (drag within the soft
    bounds, type up to the hard ones), a float gets one when it also declares a ``step`` (its
    resolution; log-scale knobs such as a learning rate do not), any other number a box limited
    to the hard bounds. Labels and ranges are left to ``from_param`` (the declared ``label``,
    ``softbounds``, ``step``). Each gets the class ``{css_prefix}-{name}``."""
    specs = {}
    for name in type(estimator).knob_names():
        p = estimator.param[name]
        spec: dict = {"css_classes": [f"{css_prefix}-{name}"]}
        if isinstance(p, param.Number):
            low, high = p.get_soft_bounds()
            slider = (low is not None and high is not None and not p.allow_None
                      and (isinstance(p, param.Integer) or p.step is not None))
            if isinstance(p, param.Integer):
                spec["type"] = pn.widgets.EditableIntSlider if slider else pn.widgets.IntInput
            else:
                spec["type"] = pn.widgets.EditableFloatSlider if slider else pn.widgets.FloatInput
            if not slider:  # from_param would limit a box to the soft bounds
                spec["start"], spec["end"] = p.bounds or (None, None)
        elif isinstance(p, param.Boolean):
            spec["type"] = pn.widgets.Checkbox
        specs[name] = spec
    return specs


def knob_panel(estimator: Estimator, css_prefix: str = "wb-knob",
               exclude: tuple[str, ...] = ()) -> pn.viewable.Viewable:
    """The estimator's knobs (not its execution settings, nor ``exclude``) as widgets bound to
    the instance, in :meth:`Estimator.knob_names` order (declared precedence), each labelled
    from its declaration and with its doc as a tooltip (the widget's own description, or a
    ``?`` icon beside widgets that have none: sliders, checkboxes)."""
    specs = knob_widgets(estimator, css_prefix)
    rows = []
    for name in [n for n in specs if n not in exclude]:
        p = estimator.param[name]
        spec = dict(specs[name])
        kind = spec.pop("type", None) or pn.Param.widget_type(p)
        widget = kind.from_param(p, sizing_mode="stretch_width", **spec)
        doc = (p.doc or "").strip()
        if doc and "description" not in widget.param:
            widget = pn.Row(widget, pn.widgets.TooltipIcon(value=doc, margin=(25, 5, 0, 0)),
                            sizing_mode="stretch_width")
        rows.append(widget)
    if not rows:
        return pn.pane.Markdown("*This method has no knobs.*", css_classes=[f"{css_prefix}s"],
                                margin=(0, 10))
    return pn.Column(*rows, sizing_mode="stretch_width", css_classes=[f"{css_prefix}s"])


def plot_slot(css_class: str) -> pn.Column:
    """An empty column that stretches to its parent; fill it with :func:`show_plot`."""
    return pn.Column(css_classes=[css_class], sizing_mode="stretch_width")


def show_plot(slot: pn.Column, plot) -> None:
    """Put a HoloViews ``plot`` in ``slot`` (``None`` empties it).

    A fresh pane each time rather than toggling ``visible``: a plot first laid out while hidden
    can stay zero-sized when shown, and toggling ``visible`` on a rendered HoloViews pane raises
    in Panel 1.9 (it re-syncs the inner plot's stylesheets)."""
    slot.objects = [] if plot is None else [pn.pane.HoloViews(plot, sizing_mode="stretch_width")]
