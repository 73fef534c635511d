"""The Decoding Lab without a browser: the model loads on a thread (trained once into the runs
folder, loaded back afterwards), Step / Generate record per-character entropies that the
summary, plot, coloured text and table show, each rule shows its own knob, bad settings and
prompts give banners, and the semantic panel shows the cluster entropies."""
from __future__ import annotations

import holoviews as hv
import pytest

from widgets.app import PAGES
from widgets.decoding_lab import RULE_LABELS, DecodingLab
from workbench.text import decoding
from workbench.text import generate as gen
from workbench.training.session import TrainingGate

#: A small model that trains in a second or two: these tests check wiring, not its quality.
TINY = dict(steps=30, eval_every=30, n_layers=1, n_heads=2, d_model=16, context=16, seed=0)


@pytest.fixture
def lab(monkeypatch, tmp_path):
    monkeypatch.setattr(gen, "LAB_MODEL", TINY)
    app = DecodingLab(runs_dir=str(tmp_path))
    app.load_model()
    yield app
    app.close()


def test_registered_page():
    assert any(p.slug == "decoding_lab" and p.target == "widgets.decoding_lab:page"
               for p in PAGES)
    assert set(RULE_LABELS) == set(decoding.RULES)


def test_model_is_trained_once_then_loaded(monkeypatch, tmp_path):
    monkeypatch.setattr(gen, "LAB_MODEL", TINY)
    first = DecodingLab(runs_dir=str(tmp_path))
    assert first._buttons["step"].disabled  # nothing to press before the model is there
    first.load_model()
    assert "saved as run" in first._status.object and not first._buttons["step"].disabled
    gen._CACHE.clear()
    second = DecodingLab(runs_dir=str(tmp_path))
    second.load_model()
    assert "loaded run" in second._status.object


def test_step_and_generate_show_entropies(lab):
    lab.session.param.update(rule="top_p", top_p=0.8)
    lab.step()
    assert "1 characters with <b>top-p</b>" in lab._summary.object
    lab.n_tokens = 15
    lab.generate()
    table = lab.session.table()
    assert len(table) == 16 and (table["kept_mass"] >= 0.8 - 1e-12).all()
    assert "16 characters" in lab._summary.object and "bits" in lab._summary.object
    assert lab._text.object.count('class="wb-dl-tok"') == 16
    assert len(lab._table.object) == 16
    overlay = lab._plot.objects[0].object
    assert isinstance(overlay, hv.Overlay)
    assert "entropy (bits)" in overlay.opts.get().kwargs["ylabel"]
    lab.session.units = "nats"  # the whole history is redrawn in nats
    assert "nats" in lab._summary.object
    band = lab.band()
    assert band.units == "nats" and band.low < band.mean < band.high
    lab.band_k = 0.0
    assert lab.band().low == lab.band().high == band.mean
    lab.session.prompt = "The "  # a new prompt starts again
    assert lab.session.table().empty and "Type a prompt" in lab._summary.object


def test_each_rule_shows_its_knob(lab):
    for rule, knob in gen.RULE_KNOBS.items():
        lab.session.rule = rule
        shown = [name for name, w in lab._knobs.items() if w.visible]
        assert shown == ([] if knob is None else [knob])


def test_bad_prompt_and_knob_give_banners(lab):
    lab.session.prompt = "Ω<script>"
    assert lab._error.visible and "not in the vocabulary" in lab._error.object
    assert "<script>" not in lab._error.object
    lab.session.prompt = "Alice "
    assert not lab._error.visible
    lab.n_tokens = 3
    lab.session.rule = "top_k"
    lab._act(lab.generate)
    assert not lab._error.visible and len(lab.session.table()) == 3


def test_semantic_panel(lab):
    lab.param.update(n_samples=8, sample_length=6)
    lab.sample()
    assert "Semantic entropy" in lab._se_result.object
    assert "from counts" in lab._se_result.object and "bits" in lab._se_result.object
    assert len(lab._se_table.object) == 8 and lab._se_table.visible
    assert isinstance(lab._se_plot.objects[0].object, hv.Bars)


def test_model_waits_for_a_training_slot(monkeypatch, tmp_path):
    monkeypatch.setattr(gen, "LAB_MODEL", TINY)
    gate = TrainingGate(1)
    busy = gate.join()  # another session's training holds the only slot
    app = DecodingLab(runs_dir=str(tmp_path), gate=gate)
    for _ in range(300):  # until the loading thread has queued (no timing asserted)
        assert not app.load_model(timeout=0.1)
        if "Waiting" in app._status.object:
            break
    assert "Waiting for a training slot: 1 in line" in app._status.object
    assert app._buttons["generate"].disabled
    gate.leave(busy)
    assert app.load_model()
    assert "Model:" in app._status.object and gate.running == 0


def test_exports_the_trace_and_its_rows(lab):
    import io

    import pandas as pd

    from workbench.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match="Nothing to export"):
        lab._export.export("csv")
    lab.n_tokens = 5
    lab.generate()
    rows = pd.read_csv(io.BytesIO(lab._export.export("csv").getvalue()))
    assert len(rows) == 5 and {"model_entropy", "truncated_entropy"} <= set(rows.columns)
    assert lab._export.export("png").getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    html = lab._export.export("html").getvalue().decode()
    assert "Bokeh" in html and "<script src=" not in html
