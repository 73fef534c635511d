"""Beyond Pairs: pick a built-in PID gate or upload data with at least 3 columns, choose an
analysis (partial information decomposition, O-information multiplets, transfer entropy) and
see the result as a labelled chart in bits or nats.

Every number comes from :mod:`workbench` (``pid``, ``multiplets``,
``transfer_entropy_matrix``) and every picture from :mod:`workbench.plots.multivariate`; this
module only wires widgets to those calls. The result is recomputed whenever a setting or the
uploaded file changes (and on **Compute**); data of a few thousand rows take well under a second
with the default methods.
"""
from __future__ import annotations

import numpy as np
import panel as pn
import param

from workbench import lab
from workbench.bench.tasks import get_gate
from workbench.io import DEFAULT_MAX_BYTES
from workbench.measures.multivariate import multiplets
from workbench.measures.pid import pid
from workbench.measures.timeseries import transfer_entropy_matrix
from workbench.plots import multivariate as mv_plots
from workbench.units import UNITS

from .components import (
    APP_CSS,
    ExportBar,
    TwoPaneApp,
    UploadBox,
    alert,
    error_message,
    escape,
    param_widget,
    plot_slot,
    set_alert,
    show_plot,
    slot_figure,
)

GATES = ("xor", "and", "rdn", "unq", "copy", "noisy_mix")
ANALYSES = ("PID", "O-information", "Transfer entropy")
PID_MEASURES = ("broja", "imin", "mmi")
METHODS = ("plugin", "gaussian_copula", "gaussian", "ksg")


class BeyondPairs(TwoPaneApp):
    """The page's state: data source, analysis and its settings, and the last result."""

    source = param.Selector(objects=["gate", "upload"], default="gate")
    gate = param.Selector(objects=list(GATES), default="xor")
    n = param.Integer(default=4000, bounds=(100, 200_000), doc="Samples drawn from the gate.")
    seed = param.Integer(default=0, bounds=(0, None))
    analysis = param.Selector(objects=list(ANALYSES), default="PID")
    measure = param.Selector(objects=list(PID_MEASURES), default="broja")
    method = param.Selector(objects=list(METHODS), default="plugin", doc=(
        "MI / entropy method: plugin for discrete data; gaussian_copula, gaussian or ksg for "
        "continuous data (mmi PID, O-information, transfer entropy)."))
    columns = param.String(default="0,1,2", doc="PID: the columns X1, X2, Y (0-based).")
    order = param.Integer(default=3, bounds=(3, 5), doc="O-information: multiplet order.")
    history = param.Integer(default=1, bounds=(1, 10), doc="TE: embedding length.")
    n_surrogates = param.Integer(default=49, bounds=(0, 500), doc="TE: surrogates for p.")
    units = param.Selector(objects=list(UNITS), default="bits")

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, **params):
        super().__init__(**params)
        self._max_bytes = max_bytes
        self._owner = ("beyond_pairs", id(self))
        # parsed once on arrival against the server's upload budget (the Lab's); the page keeps
        # the array, not the bytes
        self.upload = UploadBox("Data (≥ 3 columns)", "wb-bp-upload", reader=self._read_upload,
                                max_bytes=max_bytes)
        self._error = alert("danger", "wb-bp-error")
        self._result = pn.pane.HTML("", css_classes=["wb-bp-result", "wb-result"],
                                    sizing_mode="stretch_width", stylesheets=[APP_CSS])
        self._plot = plot_slot("wb-bp-plot")
        self._table = pn.widgets.Tabulator(None, disabled=True, height=260, visible=False,
                                           css_classes=["wb-bp-table"], show_index=False,
                                           sizing_mode="stretch_width")
        self._button = pn.widgets.Button(label="Compute", color="primary",
                                         css_classes=["wb-bp-compute"],
                                         sizing_mode="stretch_width")
        self._button.on_click(lambda _e: self.compute())
        self.param.watch(self._on_source, "source")
        self.param.watch(lambda *_e: self.compute(),
                         [p for p in self.param if p not in ("name", "source")])
        self.upload.param.watch(lambda *_e: self.compute(), ["content", "error"])
        w = param_widget
        self._controls = pn.Column(
            w(self, pn.widgets.RadioButtonGroup, "source", "Data", "bp-source"),
            w(self, pn.widgets.Select, "gate", "Gate", "bp-gate"),
            w(self, pn.widgets.IntInput, "n", "Samples", "bp-n"),
            w(self, pn.widgets.IntInput, "seed", "Seed", "bp-seed"),
            self.upload,
            w(self, pn.widgets.RadioButtonGroup, "analysis", "Analysis", "bp-analysis"),
            w(self, pn.widgets.Select, "measure", "PID measure", "bp-measure"),
            w(self, pn.widgets.Select, "method", "Method", "bp-method"),
            w(self, pn.widgets.TextInput, "columns", "PID columns X1, X2, Y", "bp-columns"),
            w(self, pn.widgets.IntInput, "order", "Multiplet order", "bp-order"),
            w(self, pn.widgets.IntInput, "history", "TE history", "bp-history"),
            w(self, pn.widgets.IntInput, "n_surrogates", "TE surrogates", "bp-surrogates"),
            w(self, pn.widgets.RadioButtonGroup, "units", "Units", "bp-units"),
            self._button, sizing_mode="stretch_width")
        self._export = ExportBar("beyond_pairs", lambda: slot_figure(self._plot),
                                 lambda: self._table.value if self._table.visible else None)
        self._output = pn.Column(self._error, self._result, self._plot, self._table,
                                 self._export, sizing_mode="stretch_width")

    def _on_source(self, event) -> None:
        # discrete gates count symbols; uploaded (continuous) data default to the copula
        with param.parameterized.discard_events(self):
            self.method = "plugin" if event.new == "gate" else "gaussian_copula"
            if event.new == "upload":
                self.measure = "mmi"
        self.compute()

    def _read_upload(self, data: bytes, filename: str) -> lab.Upload:
        """Parse a file once, holding its size in the server's upload budget (released when
        the page closes or another file replaces it)."""
        return lab.read_upload(data, filename, max_bytes=self._max_bytes,
                               budget=lab.UPLOAD_BUDGET, owner=self._owner)

    def close(self) -> None:
        lab.UPLOAD_BUDGET.release(self._owner)
        super().close()

    def data(self) -> tuple[np.ndarray, list[str]]:
        """The chosen data and its column names."""
        if self.source == "gate":
            x, y = get_gate(self.gate).sample(self.n, seed=self.seed)
            return np.column_stack([x, y]), ["X1", "X2", "Y"]
        if self.upload.error:
            raise ValueError(self.upload.error)
        if self.upload.content is None:
            raise _NoData("Upload a .npy, .npz or .csv file with at least 3 columns.")
        arr = np.asarray(self.upload.content.first())
        if arr.ndim != 2 or arr.shape[1] < 3:
            from workbench.errors import InputError
            raise InputError(f"the file has shape {arr.shape}; this page needs at least 3 "
                             "columns (one variable per column)")
        return arr, [f"x{j}" for j in range(arr.shape[1])]

    def compute(self) -> None:
        """Run the chosen analysis and show its chart, table and summary."""
        set_alert(self._error, "")
        try:
            data, names = self.data()
            summary, plot, table = self._analyse(data, names)
        except _NoData as exc:
            self._show(f"<span class='wb-muted'>{escape(exc)}</span>", None, None)
        except Exception as exc:  # shown to the user, not raised into the server log
            set_alert(self._error, error_message(exc))
            self._show("", None, None)
        else:
            self._show(summary, plot, table)

    def _analyse(self, data, names):
        if self.analysis == "PID":
            cols = _columns(self.columns, data.shape[1])
            knobs = {"method": self.method} if self.measure == "mmi" else {}
            result = pid(data[:, cols[0]], data[:, cols[1]], data[:, cols[2]],
                         measure=self.measure, units=self.units, **knobs)
            atoms = ", ".join(f"{a} {v:.3f}" for a, v in result.items())
            summary = (f"<b>PID ({result.measure})</b> of {names[cols[2]]} from "
                       f"{names[cols[0]]}, {names[cols[1]]}: {atoms} {result.units}; "
                       f"I(X1,X2;Y) = {result.mutual_info:.3f} {result.units}")
            return summary, mv_plots.pid_bars(result), result.frame()
        if self.analysis == "O-information":
            if self.order > data.shape[1]:
                from workbench.errors import InputError
                raise InputError(f"order {self.order} needs at least {self.order} columns; "
                                 f"the data have {data.shape[1]}")
            table = multiplets(data, orders=self.order, method=self.method, units=self.units,
                               names=names)
            best = table.loc[table["o_information"].idxmin()]
            summary = (f"<b>O-information</b> of {len(table)} multiplets of order "
                       f"{self.order}: most synergistic {best['variables']} "
                       f"(Ω = {best['o_information']:.3f} {self.units})")
            shown = table.drop(columns=["multiplet"])
            return summary, mv_plots.multiplet_heatmap(table), shown
        table = transfer_entropy_matrix(
            data, names=names, history=self.history, source_history=self.history,
            method="gaussian" if self.method == "plugin" and self.source == "upload"
            else self.method, units=self.units, n_surrogates=self.n_surrogates)
        top = table.loc[table["te"].idxmax()]
        p = f", p = {top['p_value']:.3g}" if "p_value" in table else ""
        summary = (f"<b>Transfer entropy</b>, largest {top['source']} → {top['target']}: "
                   f"{top['te']:.3f} {self.units}{p}")
        return summary, mv_plots.te_heatmap(table), table

    def _show(self, summary: str, plot, table) -> None:
        self._result.object = summary
        show_plot(self._plot, plot)
        self._table.value = table
        self._table.visible = table is not None


class _NoData(Exception):
    """Nothing to compute yet (no file uploaded); not an error."""


def _columns(text: str, n_columns: int) -> list[int]:
    from workbench.errors import InputError

    try:
        cols = [int(c) for c in text.replace(" ", "").split(",") if c]
    except ValueError:
        cols = []
    if len(cols) != 3 or len(set(cols)) != 3 or not all(0 <= c < n_columns for c in cols):
        raise InputError(f"PID columns must be three distinct column numbers in "
                         f"0..{n_columns - 1}, like 0,1,2; got {text!r}")
    return cols


def page(config) -> pn.template.BootstrapTemplate:
    """The ``/beyond_pairs`` page of ``workbench serve``."""
    app = BeyondPairs(max_bytes=int(config.max_upload_mb * 2**20))
    app.compute()
    return app.page("Beyond Pairs")
