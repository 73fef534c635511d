"""The Decoding Lab: type a prompt, pick a decoding rule and its knob, and generate from the
tiny character transformer one character at a time, watching per character the entropy of the
model's distribution H(p), the entropy of the truncated distribution actually sampled H(q) and
the "stable entropy" band of the model on human (held-out) text or its own greedy decoding. A
semantic-entropy panel samples several continuations, groups them by their first word and
shows the entropy over the groups with bootstrap intervals.

Every number comes from :mod:`workbench.text.generate` / :mod:`workbench.text.decoding` /
:mod:`workbench.text.semantic`, every
picture from :mod:`workbench.plots.decoding`; this module wires widgets to them. The model is
loaded (or, the first time, trained for a few seconds and saved in the runs folder) on a
background thread, through the server's training line; the buttons wait for it. In JupyterLab::

    lab = DecodingLab()
    lab                  # the widgets; the model loads in the background (a few seconds)
    lab.load_model()     # or block until it is there, then e.g. lab.session.generate(40)
"""
from __future__ import annotations

import dataclasses
import html
import threading

import numpy as np
import panel as pn
import param

from workbench.plots import decoding as plots
from workbench.runs import default_root
from workbench.text import decoding
from workbench.text.generate import RULE_KNOBS, DecodingSession, load_or_train
from workbench.units import from_nats

from .components import (
    APP_CSS,
    ExportBar,
    TwoPaneApp,
    alert,
    error_message,
    escape,
    param_widget,
    plot_slot,
    set_alert,
    show_plot,
    slot_figure,
)

RULE_LABELS = {"temperature": "temperature only", "top_k": "top-k", "top_p": "top-p",
               "eta": "η-sampling", "typical": "locally typical", "min_p": "min-p"}
KNOB_LABELS = {"top_k": "k", "top_p": "p", "epsilon": "ε", "typical_mass": "typical mass τ",
               "min_p": "p_base"}
#: Colours of generated characters by where the model's entropy falls against the band.
BELOW, INSIDE, ABOVE = "#cfe2f3", "#d9ead3", "#f4cccc"
#: Bootstrap resamples behind the semantic panel's intervals (a few ms for 10 answers).
BOOTSTRAP_RESAMPLES = 200


def _interval(ci) -> str:
    """'(95% bootstrap [low, high])', flagged when the resampling bias exceeds the spread."""
    text = f"(95% bootstrap [{ci.low:.3f}, {ci.high:.3f}]"
    if ci.excludes_estimate:
        text += ", biased low: too few samples"
    return html.escape(text + ")")


TEXT_CSS = """
.wb-dl-text { font-family: monospace; white-space: pre-wrap; line-height: 1.7; }
.wb-dl-text .wb-dl-prompt { color: #777; }
.wb-dl-text .wb-dl-tok { border-radius: 2px; }
"""


class DecodingLab(TwoPaneApp):
    """The page's state: a :class:`DecodingSession` (prompt, rule, knobs, units, seed) plus the
    band and semantic-entropy settings."""

    n_tokens = param.Integer(40, bounds=(1, 400), doc="characters per Generate")
    band_source = param.Selector(objects=["human", "greedy"], default="human", doc=(
        "stable band from the model's entropy on held-out human text, or along its own greedy "
        "continuations"))
    band_k = param.Number(1.0, bounds=(0.0, 5.0), step=0.1, doc="band = mean ± k·std")
    n_samples = param.Integer(10, bounds=(2, 100), doc="continuations sampled")
    sample_length = param.Integer(16, bounds=(2, 100), doc="characters per continuation")
    status = param.String("", doc="what the model is doing")

    def __init__(self, runs_dir: str | None = None, gate=None, **params):
        super().__init__(**params)
        self.session = DecodingSession(load=False)
        self._runs_dir = runs_dir if runs_dir is not None else str(default_root())
        self._gate = gate
        self._loader: threading.Thread | None = None
        self._loaded = None  # (lm or None, error or None) from the loading thread
        self._ticket = None  # its place in the server's training line
        self._bands: dict = {}
        self._periodic = None
        self._error = alert("danger", "wb-dl-error")
        self._status = pn.pane.HTML("", css_classes=["wb-dl-status"], sizing_mode="stretch_width")
        self._summary = pn.pane.HTML("", css_classes=["wb-dl-summary", "wb-result"],
                                     stylesheets=[APP_CSS], sizing_mode="stretch_width")
        self._text = pn.pane.HTML("", css_classes=["wb-dl-text"], stylesheets=[TEXT_CSS],
                                  sizing_mode="stretch_width")
        self._plot = plot_slot("wb-dl-plot")
        # DataFrame panes (pandas' to_html escapes every cell, so characters and samples show
        # as text) need no Tabulator extension in a notebook
        self._table = pn.pane.DataFrame(None, index=False, escape=True, max_height=240,
                                        styles={"overflow-y": "auto"},
                                        css_classes=["wb-dl-table"], sizing_mode="stretch_width")
        self._se_result = pn.pane.HTML("", css_classes=["wb-dl-se-result", "wb-result"],
                                       stylesheets=[APP_CSS], sizing_mode="stretch_width")
        self._se_plot = plot_slot("wb-dl-se-plot")
        self._se_table = pn.pane.DataFrame(None, index=False, escape=True, max_height=260,
                                           styles={"overflow-y": "auto"},
                                           visible=False, css_classes=["wb-dl-se-table"],
                                           sizing_mode="stretch_width")
        self._buttons = {name: pn.widgets.Button(label=label, css_classes=[f"wb-dl-{name}"],
                                                 color=color, disabled=True,
                                                 sizing_mode="stretch_width")
                         for name, label, color in (
                             ("step", "Step", "primary"), ("generate", "Generate", "primary"),
                             ("reset", "Reset", "default"),
                             ("sample", "Sample continuations", "primary"))}
        self._buttons["step"].on_click(lambda _e: self._act(self.step))
        self._buttons["generate"].on_click(lambda _e: self._act(self.generate))
        self._buttons["reset"].on_click(lambda _e: self._act(self.reset))
        self._buttons["sample"].on_click(lambda _e: self._act(self.sample))
        self._controls = self._build_controls()
        # the trace as shown (PNG/HTML) and its per-character rows (CSV/Parquet)
        self._export = ExportBar("decoding_lab", lambda: slot_figure(self._plot, self._se_plot),
                                 self._export_rows)
        self._output = pn.Column(
            self._error, self._status, self._summary, self._text, self._plot, self._table,
            self._export,
            pn.pane.Markdown("### Semantic entropy of sampled continuations\n"
                             "Continuations of the text so far, sampled with the rule on the "
                             "left and grouped by their first word (Kuhn et al. 2023).",
                             sizing_mode="stretch_width"),
            self._se_result, self._se_plot, self._se_table, sizing_mode="stretch_width")
        s = self.session
        s.param.watch(lambda *_e: self._act(self.reset), ["prompt", "seed"])
        s.param.watch(self._on_rule, "rule")
        s.param.watch(lambda *_e: self._act(self._redraw), ["units"])
        self.param.watch(lambda *_e: self._act(self._redraw), ["band_source", "band_k"])
        self.param.watch(lambda e: self._status_html(e.new), "status")
        self._on_rule()
        self._redraw_empty()

    # ----- layout -----------------------------------------------------------------------
    def _build_controls(self) -> pn.Column:
        s, w = self.session, param_widget
        rule = pn.widgets.Select.from_param(
            s.param.rule, name="Decoding rule", options={v: k for k, v in RULE_LABELS.items()},
            css_classes=["wb-dl-rule"], sizing_mode="stretch_width")
        self._knobs = {
            name: w(s, pn.widgets.EditableIntSlider if name == "top_k"
                    else pn.widgets.FloatInput if name == "epsilon"
                    else pn.widgets.EditableFloatSlider, name, KNOB_LABELS[name],
                    f"dl-knob-{name}")
            for name in KNOB_LABELS}
        return pn.Column(
            w(s, pn.widgets.TextInput, "prompt", "Prompt", "dl-prompt"),
            rule, *self._knobs.values(),
            w(s, pn.widgets.EditableFloatSlider, "temperature", "Temperature τ (before the rule)",
              "dl-temperature"),
            w(s, pn.widgets.IntInput, "seed", "Seed", "dl-seed"),
            w(s, pn.widgets.RadioButtonGroup, "units", "Units", "dl-units"),
            pn.Row(self._buttons["step"], self._buttons["generate"], self._buttons["reset"],
                   sizing_mode="stretch_width"),
            w(self, pn.widgets.IntInput, "n_tokens", "Characters per Generate", "dl-n-tokens"),
            w(self, pn.widgets.RadioButtonGroup, "band_source", "Stable band from",
              "dl-band-source"),
            w(self, pn.widgets.EditableFloatSlider, "band_k", "Band width k (σ)", "dl-band-k"),
            pn.pane.Markdown("**Semantic entropy**", margin=(10, 10, 0, 10)),
            w(self, pn.widgets.IntInput, "n_samples", "Continuations", "dl-n-samples"),
            w(self, pn.widgets.IntInput, "sample_length", "Characters each", "dl-sample-length"),
            self._buttons["sample"], sizing_mode="stretch_width")

    def _on_rule(self, *_events) -> None:
        active = RULE_KNOBS[self.session.rule]
        for name, widget in self._knobs.items():
            widget.visible = name == active

    # ----- the model --------------------------------------------------------------------
    def start_loading(self) -> None:
        """Load (or train) the model on a background thread; :meth:`poll` picks it up."""
        if self._loader is not None or self.session.lm is not None:
            return
        self.status = "Loading the character model (trained on first use, a few seconds)…"
        # not a daemon: torch aborts the process if it is still training when the
        # interpreter finalises; exit waits for the (seconds-long) training instead
        self._loader = threading.Thread(target=self._load_in_thread, daemon=False,
                                        name="decoding-lab-model")
        self._loader.start()

    def _load_in_thread(self) -> None:
        ticket = self._ticket = self._gate.join() if self._gate is not None else None
        try:
            if ticket is not None:
                self._gate.wait(ticket)
            lm = load_or_train(self._runs_dir)
            self._loaded = (lm, None)
        except Exception as exc:  # reported in the banner by poll()
            self._loaded = (None, exc)
        finally:
            if ticket is not None:
                self._gate.leave(ticket)

    def load_model(self, timeout: float | None = None) -> bool:
        """Load (or train) the model now, blocking up to ``timeout`` seconds (scripts,
        notebooks, tests); True once it is ready."""
        self.start_loading()
        if self._loader is not None:
            self._loader.join(timeout)
        return self.poll()

    def poll(self) -> bool:
        """Take the model once the loading thread has it; True when it is ready."""
        if self.session.lm is not None:
            return True
        if self._loaded is None:
            place = self._gate.position(self._ticket) if self._ticket is not None else None
            if place:  # 0: admitted; None: not in line (yet)
                self.status = (f"Waiting for a training slot: {place} in line "
                               f"({self._gate.limit} trainings run at a time on this server).")
            return False
        lm, exc = self._loaded
        self._stop_polling()
        if exc is not None:
            self.status = ""
            set_alert(self._error, f"The model could not be loaded: {error_message(exc)}")
            return False
        self._act(lambda: self.session.attach(lm))
        loss = from_nats(lm.val_loss, "bits")
        self.status = (f"Model: {lm.source}; held-out loss {loss:.2f} bits "
                       f"per character, {len(lm.vocab)} characters, context {lm.context}.")
        for button in self._buttons.values():
            button.disabled = False
        self._act(self._redraw)
        return True

    def start_polling(self, period_ms: int = 250) -> None:
        self._periodic = pn.state.add_periodic_callback(self.poll, period=period_ms)

    def _stop_polling(self) -> None:
        if self._periodic is not None:
            self._periodic.stop()
            self._periodic = None

    def close(self) -> None:
        self._stop_polling()

    def __panel__(self):
        # shown in a notebook cell: load the model in the background, as the served page does
        if self.session.lm is None and self._periodic is None and self._loaded is None:
            self.start_loading()
            self.start_polling()
        return super().__panel__()

    # ----- actions ----------------------------------------------------------------------
    def _act(self, action) -> None:
        """Run ``action`` with errors shown in the banner, never raised into the server."""
        set_alert(self._error, "")
        try:
            action()
        except Exception as exc:
            set_alert(self._error, error_message(exc))

    def step(self) -> None:
        self.session.step()
        self._redraw()

    def generate(self) -> None:
        self.session.generate(self.n_tokens)
        self._redraw()

    def reset(self) -> None:
        if self.session.lm is None:
            return
        self.session.reset()
        self._redraw()

    def band(self):
        """The stable band for the current source, k and units (entropies computed once per
        source and units)."""
        key = (self.band_source, self.session.units)
        if key not in self._bands:
            self._bands[key] = self.session.stable_band(self.band_source, 1.0)
        return dataclasses.replace(self._bands[key], k=float(self.band_k))

    def sample(self) -> None:
        demo = self.session.semantic_demo(self.n_samples, self.sample_length,
                                          n_resamples=BOOTSTRAP_RESAMPLES)
        u = demo.units
        top = from_nats(np.log(len(demo.samples)), u)
        self._se_result.object = (
            f"<b>Semantic entropy</b> over {len(demo.clusters)} first-word clusters of "
            f"{len(demo.samples)} continuations: <b>{demo.entropy_counts:.3f} {u}</b> from "
            f"counts {_interval(demo.ci_counts)}, <b>{demo.entropy_weighted:.3f} {u}</b> from "
            f"the model's sequence probabilities {_interval(demo.ci_weighted)} (normalised "
            f"over the distinct samples; at most log {len(demo.samples)} = {top:.3f} {u}, "
            "when every sample is its own cluster).")
        show_plot(self._se_plot, plots.cluster_bars(demo.clusters, u))
        shown = demo.samples.assign(continuation=demo.samples["continuation"].str.replace(
            "\n", "⏎"))
        self._se_table.object = shown.rename(columns={"log_prob": "log p (nats)"}).round(3)
        self._se_table.visible = True

    def _export_rows(self):
        """The generated characters' rows (None before a model and a first step)."""
        return None if self.session.lm is None else self.session.table()

    # ----- drawing ----------------------------------------------------------------------
    def _redraw_empty(self) -> None:
        self._summary.object = ("<span class='wb-muted'>Type a prompt, pick a rule and press "
                                "Step or Generate.</span>")

    def _redraw(self) -> None:
        if self.session.lm is None:
            return
        table, units = self.session.table(), self.session.units
        band = self.band()
        self._text.object = self._text_html(table, band)
        show_plot(self._plot, plots.entropy_trace(table, band, units))
        shown = table.drop(columns=["token", "units"]).assign(
            char=table["char"].str.replace("\n", "⏎")).round(4)
        self._table.object = shown.rename(columns={
            "model_entropy": f"H(p) ({units})", "truncated_entropy": f"H(q) ({units})",
            "kept_mass": "kept mass", "p_model": "p(char)", "p_sampled": "q(char)"})
        if len(table):
            last = table.iloc[-1]
            inside = band.contains(last["model_entropy"])
            self._summary.object = (
                f"{len(table)} characters with <b>{escape(RULE_LABELS[self.session.rule])}"
                f"</b>. Last: model H(p) = <b>{last['model_entropy']:.3f} {units}</b>, sampled "
                f"H(q) = <b>{last['truncated_entropy']:.3f} {units}</b>, {int(last['kept'])} "
                f"characters kept ({last['kept_mass']:.3f} of the mass). Mean H(p) "
                f"{table['model_entropy'].mean():.3f}, mean H(q) "
                f"{table['truncated_entropy'].mean():.3f} {units}; stable band "
                f"[{band.low:.3f}, {band.high:.3f}] {units} ({band.source}), last step "
                f"{'inside' if inside else 'outside'}.")
        else:
            self._redraw_empty()

    def _text_html(self, table, band) -> str:
        units = self.session.units
        spans = []
        for row in table.itertuples():
            h = row.model_entropy
            colour = BELOW if h < band.low else ABOVE if h > band.high else INSIDE
            char = escape(row.char).replace("\n", "⏎\n")
            tip = escape(f"{row.char!r}: H(p) {h:.2f} {units}, H(q) "
                         f"{row.truncated_entropy:.2f} {units}, kept {row.kept}")
            spans.append(f'<span class="wb-dl-tok" style="background:{colour}" '
                         f'title="{tip}">{char}</span>')
        legend = (f'<div class="wb-muted"><small>Background: model entropy '
                  f'<span style="background:{BELOW}">below</span>, '
                  f'<span style="background:{INSIDE}">inside</span> or '
                  f'<span style="background:{ABOVE}">above</span> the stable band.</small></div>')
        return (f'<div class="wb-dl-text"><span class="wb-dl-prompt">'
                f'{escape(self.session.prompt)}</span>{"".join(spans)}</div>{legend}')

    def _status_html(self, message: str) -> None:
        self._status.object = f"<small>{escape(message)}</small>" if message else ""


def rule_names() -> list[str]:
    """The decoding rules, as the page lists them."""
    return list(decoding.RULES)


def page(config) -> pn.template.BootstrapTemplate:
    """The ``/decoding_lab`` page of ``workbench serve``."""
    app = DecodingLab(runs_dir=config.runs_dir, gate=config.gate)
    app.start_loading()
    app.start_polling()
    return app.page("Decoding Lab")
