"""Reusable Panel pieces: alert banners, a size-limited upload box, a knob panel built from an
estimator's ``param`` declarations, plot panes, the export bar of the live pages, and the
ipywidget form of every app (:class:`IpywidgetMixin`). Each carries a stable CSS class (``wb-…``)
so browser tests and users' stylesheets can find it."""
from __future__ import annotations

import asyncio
import html
import io
import logging
from collections.abc import Callable
from typing import Any

import panel as pn
import param

from workbench.errors import WorkbenchError
from workbench.estimators.base import Estimator
from workbench.io import DEFAULT_MAX_BYTES, SUPPORTED_SUFFIXES
from workbench.plots import static

log = logging.getLogger(__name__)

#: Stylesheet shared by the apps (result card, muted notes).
APP_CSS = """
.wb-result { font-family: var(--bokeh-base-font, sans-serif); line-height: 1.5; }
.wb-result .wb-symbol { color: #555; font-size: 0.95em; }
.wb-result .wb-big { font-size: 2.1em; font-weight: 600; color: #1f4e79; }
.wb-result .wb-estimate-units { font-size: 0.55em; color: #555; margin-left: 0.25em; }
.wb-result .wb-row { color: #333; }
.wb-result .wb-muted { color: #777; font-size: 0.9em; }
.wb-result.wb-stale > div:not(.wb-stale-note) { opacity: 0.4; }
.wb-result .wb-stale-note { color: #8a6d3b; font-style: italic; }
.wb-result .wb-auto-reason { color: #1f4e79; }
.wb-result .wb-saturated { color: #8a4b08; font-weight: 600; }
"""


def escape(text: Any) -> str:
    """``text`` as literal HTML: the one escaper for every string a user controls (file names,
    CSV cells, column names, run names, exception text) before it goes into an HTML or
    Markdown pane. Markup in ``text`` is shown, never run."""
    return html.escape(str(text), quote=True)


def plain_html(message: str) -> str:
    """A plain-text ``message`` as one HTML block for a Markdown pane (an alert): escaped by
    :func:`escape`, blank lines start paragraphs, and Markdown syntax (``*``, ``_``, links)
    stays literal because Markdown leaves a raw HTML block alone."""
    paragraphs = [p for p in str(message).split("\n\n") if p.strip()]
    body = "".join('<div class="wb-alert-paragraph">'
                   + escape(p.strip()).replace("\n", "<br>") + "</div>" for p in paragraphs)
    return f'<div class="wb-alert-text">{body}</div>'


def error_message(exc: BaseException) -> str:
    """What a banner says about ``exc``: our errors verbatim, anything else with its type."""
    if isinstance(exc, WorkbenchError):
        return str(exc)
    return f"Unexpected error ({type(exc).__name__}): {exc}"


#: Header colour of every served page.
HEADER_COLOR = "#1f4e79"


class IpywidgetMixin:
    """``app.ipywidget()``: the app as an ipywidget, for notebook front ends that speak only
    the Jupyter widget protocol (VS Code, Colab, classic notebook; JupyterLab too).

    Panel's bridge (:func:`panel.ipywidget`, a ``jupyter_bokeh`` ``BokehModel``) renders the
    app's Bokeh models inside one widget and carries every change both ways over the widget
    comm, so the app's Python callbacks (estimates, training polls) run in the kernel as in a
    Panel cell. Call ``pn.extension()`` first (``inline=True`` offline) so Panel's JavaScript
    is on the page."""

    def ipywidget(self, **kwargs):
        """This app as an ipywidget (``jupyter_bokeh.widgets.BokehModel``); ``kwargs`` go to
        :func:`panel.panel`."""
        from workbench.extras import require

        for module in ("ipywidgets", "jupyter_bokeh"):
            require(module, f"{type(self).__name__}.ipywidget()")
        return pn.ipywidget(self, **kwargs)


class TwoPaneApp(IpywidgetMixin, pn.viewable.Viewer):
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
    """Show the plain-text ``message`` in ``banner`` (escaped: it may quote file names and
    exception text); an empty message hides it."""
    banner.object = plain_html(message) if message else ""
    banner.visible = bool(message)


def _megabytes(n_bytes: int) -> str:
    """Size in MB of 2**20 bytes (what --max-upload-mb counts), to 3 significant digits."""
    return f"{n_bytes / 2**20:.3g} MB"


class UploadBox(pn.viewable.Viewer):
    """A file picker for ``.npy``/``.npz``/``.csv`` that turns a file into what ``reader``
    returns (e.g. parsed arrays) once, on arrival, and keeps only that: the bytes are dropped,
    also from the file widget. Files over ``max_bytes`` are refused before anything parses
    them; ``reader``'s errors become :attr:`error`. In a served page the reading runs off the
    event loop."""

    content = param.Parameter(default=None, doc="What reader made of the accepted file.")
    filename = param.String(default="", doc="Name of the accepted file.")
    error = param.String(default="", doc="Why the last file was refused ('' when accepted).")
    reading = param.String(default="", doc="Name of the file being read ('' when idle).")
    max_bytes = param.Integer(default=DEFAULT_MAX_BYTES, bounds=(1, None), constant=True,
                              doc="Largest accepted file, in bytes.")

    def __init__(self, label: str, css_class: str, reader: Callable[[bytes, str], Any],
                 **params):
        super().__init__(**params)
        self._reader = reader
        self._input = pn.widgets.FileInput(accept=",".join(SUPPORTED_SUFFIXES), multiple=False,
                                           css_classes=[css_class], sizing_mode="stretch_width")
        self._input.param.watch(self._on_upload, "value")
        limit = _megabytes(self.max_bytes)
        self._label = pn.pane.Markdown(f"{label} <small>(.npy, .npz, .csv; at most {limit})"
                                       "</small>", margin=(0, 10))
        self._loaded = pn.pane.HTML("", css_classes=[f"{css_class}-loaded"], margin=(0, 10))
        self._layout = pn.Column(self._label, self._input, self._loaded,
                                 sizing_mode="stretch_width")

    def accept(self, data: bytes | None, filename: str) -> None:
        """Take a file's bytes (what the widget does on upload; also for scripts and tests)."""
        self._apply(filename, *self._read(data, filename))

    def _read(self, data: bytes | None, filename: str) -> tuple[Any, str]:
        """``(content, error)``; runs on a worker thread in a served page."""
        if data is None:
            return None, ""
        if len(data) > self.max_bytes:
            return None, (f"{filename!r} is {_megabytes(len(data))}, over the "
                          f"{_megabytes(self.max_bytes)} upload limit; subsample it first")
        try:
            return self._reader(data, filename), ""
        except Exception as exc:  # shown in a banner, never a traceback
            return None, error_message(exc)

    def _apply(self, filename: str, content: Any, error: str) -> None:
        ok = content is not None
        self.param.update(content=content, filename=filename if ok else "", error=error,
                          reading="")
        self._loaded.object = (f"<small>loaded: <b>{escape(filename)}</b></small>" if ok
                               else "")

    def clear(self) -> None:
        self.param.update(content=None, filename="", error="", reading="")
        self._loaded.object = ""
        self._input.param.update(value=None, filename=None)

    def _on_upload(self, event) -> None:
        if event.new is None:
            return
        data, filename = event.new, self._input.filename or "upload"
        self._input.param.update(value=None)  # keep what was read, not the bytes
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.accept(data, filename)
            return
        self.reading = filename

        async def read() -> None:
            self._apply(filename, *await loop.run_in_executor(None, self._read, data, filename))

        pn.state.execute(read)

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


def slot_figure(*slots: pn.Column):
    """The HoloViews plots that :func:`show_plot` put in ``slots`` (empty ones skipped): one
    plot as it is, several as a two-column layout, None when every slot is empty."""
    plots = [pane.object for slot in slots for pane in slot.objects
             if isinstance(pane, pn.pane.HoloViews)]
    if len(plots) <= 1:
        return plots[0] if plots else None
    import holoviews as hv

    return hv.Layout(plots).cols(2)


class _Download(pn.widgets.FileDownload):
    """A FileDownload whose callback's failure goes to ``on_error`` (the bar's note) instead
    of a server traceback with no download."""

    on_error = param.Callable(default=None)

    _rename = {**pn.widgets.FileDownload._rename, "on_error": None}  # Python side only

    @param.depends("_clicks", watch=True)
    def _transfer(self):
        try:
            super()._transfer()
        except Exception as exc:
            if self.on_error is None:
                raise
            self.on_error(exc)


class ExportBar(pn.viewable.Viewer):
    """Downloads of what a page shows: the current figure as PNG (drawn without a browser,
    :func:`workbench.plots.static.figure_bytes`) and as a standalone HTML file with BokehJS
    inline (opens offline), and the run's rows as CSV and Parquet
    (:func:`workbench.plots.static.table_bytes`). Each file is made when its button is
    clicked, from what the page holds at that moment.

    ``figure()`` returns the HoloViews object to save (None: nothing shown yet); ``data()``
    the rows (None or empty: nothing to export yet, for the figure too: an empty plot says
    nothing). Buttons carry the classes ``wb-export-png``, ``-html``, ``-csv``, ``-parquet``."""

    def __init__(self, name: str, figure: Callable[[], Any] | None = None,
                 data: Callable[[], Any] | None = None):
        super().__init__()
        self._name, self._figure, self._data = name, figure, data
        self._note = pn.pane.HTML("", css_classes=["wb-export-note"], margin=(8, 5))
        buttons = []
        for fmt, source in (("png", figure), ("html", figure), ("csv", data),
                            ("parquet", data)):
            if source is None:
                continue
            buttons.append(_Download(
                callback=lambda fmt=fmt: self.export(fmt), filename=f"{name}.{fmt}",
                label=fmt.upper() if fmt != "parquet" else "Parquet", button_type="light",
                embed=False, auto=True, width=90, margin=(5, 3),
                css_classes=[f"wb-export-{fmt}"], on_error=self._failed))
        self._layout = pn.Row(pn.pane.HTML("<small>Export:</small>", margin=(10, 5)), *buttons,
                              self._note, css_classes=["wb-export"],
                              sizing_mode="stretch_width")

    def export(self, fmt: str) -> io.BytesIO:
        """The file of format ``fmt`` (png, html, csv, parquet) as the page is now."""
        frame = self._data() if self._data is not None else None
        if self._data is not None and (frame is None or len(frame) == 0):
            raise WorkbenchError("Nothing to export yet: there are no results on this page.")
        if fmt in static.TABLE_FORMATS:
            payload = static.table_bytes(frame, fmt)
        else:
            figure = self._figure()
            if figure is None:
                raise WorkbenchError("Nothing to export yet: no plot is shown.")
            payload = static.figure_bytes(figure, fmt)
        self._note.object = ""
        return io.BytesIO(payload)

    def _failed(self, exc: Exception) -> None:
        if not isinstance(exc, WorkbenchError):
            log.exception("export failed", exc_info=exc)
        self._note.object = f'<small class="wb-export-error">{escape(error_message(exc))}</small>'

    def __panel__(self):
        return self._layout
