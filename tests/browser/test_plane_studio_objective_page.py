"""The Plane Studio's objective and MNIST-1D in a real headless Chromium: choose MNIST-1D and
VIB(β), Start, and the plane shows the bottleneck layer measured from its noise (estimator
``channel``) until the run finishes and is saved.

One ``workbench serve`` with its own ``--runs-dir`` (in tmp_path)."""
from __future__ import annotations

import json

import pytest
from browser_helpers import open_rendered, set_number, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = pytest.importorskip("playwright.sync_api").expect

#: bounds on a hang, not the speed: MNIST-1D is generated on first use (seconds)
WAIT_MS = 180_000
ANSWER = 20_000

#: Layers present in the plane's point data (the scatter source has ixt, layer, colour).
PLANE_LAYERS_JS = """() => {
  const layers = new Set();
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    const d = m.type === 'ColumnDataSource' ? m.data : null;
    if (!d) continue;
    const get = (k) => (d instanceof Map ? d.get(k) : d[k]);
    if (get('ixt') && get('color') && get('layer') && get('ixt').length)
      for (const l of get('layer')) layers.add(l);
  }
  return [...layers].sort();
}"""


def test_vib_on_mnist1d_shows_the_bottleneck_plane(page, studio_url, tmp_path, artifacts_dir):
    open_rendered(page, studio_url, 30_000)
    expect(page.locator(".wb-start button")).to_be_enabled(timeout=ANSWER)
    beta = page.locator(".wb-beta input")
    expect(beta).to_be_disabled(timeout=ANSWER)  # cross-entropy has no β

    page.locator(".wb-dataset select").select_option(label="MNIST-1D (40-sample signals)")
    expect(page.locator(".wb-arch input")).to_have_value("40-10-7-5-4-3-10", timeout=WAIT_MS)
    page.locator(".wb-objective select").select_option(label="VIB(β)")
    expect(beta).to_be_enabled(timeout=ANSWER)
    set_number(page, ".wb-beta", "0.01")
    set_number(page, ".wb-epochs", 3)
    page.wait_for_timeout(500)
    page.locator(".wb-start button").click()

    expect(page.locator(".wb-status-text")).to_contain_text("Finished", timeout=WAIT_MS)
    expect(page.locator(".wb-shown-estimator select")).to_have_value("channel",
                                                                     timeout=ANSWER)
    assert page.evaluate(PLANE_LAYERS_JS) == ["bottleneck"]
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1
    config = json.loads((runs[0] / "config.json").read_text())
    assert (config["objective"], config["beta"], config["data"]) == ("vib", 0.01, "mnist1d")
    page.screenshot(path=artifacts_dir / "plane_studio_vib_mnist1d.png")
    assert page.console_errors == []


def test_the_cnn_on_mnist1d_trains_and_tracks_its_conv_layers(page, studio_url, tmp_path,
                                                              artifacts_dir):
    """The network choice "1-D CNN": disabled until MNIST-1D is the dataset; chosen, it fills
    the arch box with 'cnn' (read-only) and the estimator with the compressed KSG, and a run
    draws the planes of conv1-conv3 and out."""
    open_rendered(page, studio_url, 30_000)
    network = page.locator(".wb-network select")
    expect(network).to_be_disabled(timeout=ANSWER)  # the 12-bit task has no CNN
    page.locator(".wb-dataset select").select_option(label="MNIST-1D (40-sample signals)")
    expect(network).to_be_enabled(timeout=WAIT_MS)
    network.select_option(label="1-D CNN (MNIST-1D only)")
    arch = page.locator(".wb-arch input")
    expect(arch).to_have_value("cnn", timeout=ANSWER)
    expect(arch).to_be_disabled()
    expect(page.locator(".wb-estimators input[type=checkbox]:checked")).to_have_count(1)
    expect(page.locator(".wb-knobs-compressed_ksg")).to_be_visible()
    set_number(page, ".wb-epochs", 1)
    page.wait_for_timeout(500)
    page.locator(".wb-start button").click()
    expect(page.locator(".wb-status-text")).to_contain_text("Finished", timeout=WAIT_MS)
    # the last draw may trail the status by a poll
    layers = wait_until(page, lambda: len(page.evaluate(PLANE_LAYERS_JS)) == 4 and
                        page.evaluate(PLANE_LAYERS_JS), "four layers in the plane", 10)
    assert layers == ["conv1", "conv2", "conv3", "out"]
    runs = list((tmp_path / "runs").iterdir())
    config = json.loads((runs[0] / "config.json").read_text())
    assert (config["arch"], config["data"], config["subsample"]) == ("cnn", "mnist1d", 1000)
    page.screenshot(path=artifacts_dir / "plane_studio_cnn_mnist1d.png")
    assert page.console_errors == []
