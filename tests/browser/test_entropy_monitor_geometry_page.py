"""The Entropy Monitor tracks geometry per layer in a real headless Chromium: with only the
intrinsic dimension and the local rank ticked, a short Layers run draws one plot of each, and
every layer's curve in both receives points."""
from __future__ import annotations

import re

import pytest
from browser_helpers import open_rendered

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_server_tracebacks")]

expect = pytest.importorskip("playwright.sync_api").expect

#: Per Bokeh data source that has column ``column``: its length.
SOURCE_LENGTHS = """
(column) => {
  const out = [];
  for (const doc of window.Bokeh.documents) {
    for (const model of doc.all_models) {
      const data = model.data;
      if (data === undefined || data === null) continue;
      const values = data instanceof Map ? data.get(column) : data[column];
      if (values !== undefined) out.push(values.length);
    }
  }
  return out;
}
"""
#: True when at least ``count`` data sources with a ``value`` column hold ``points`` points:
#: each layer's curve in each plot is one data source of (epoch, value) rows.
CURVES_WITH_POINTS = f"""
([count, points]) => ({SOURCE_LENGTHS})("value").filter(n => n >= points).length >= count
"""
#: Every string ``text`` property of a Bokeh model on the page (plot titles among them; class
#: names are minified, so Title models are not picked out by name).
TITLES = """
() => {
  const out = [];
  for (const doc of window.Bokeh.documents) {
    for (const model of doc.all_models) {
      if (typeof model.text === "string") out.push(model.text);
    }
  }
  return out;
}
"""
LAYERS = ("layer1", "layer2", "layer3")  # the digits network 64-128-64-10
DEFAULT_TITLES = ("binned H(T)", "matrix-Rényi S_α(T)", "von Neumann entropy (VNE)",
                  "effective rank", "diffusion spectral entropy (DSE)")


def test_monitor_draws_intrinsic_dimension_and_local_rank_per_layer(page, server_url,
                                                                    artifacts_dir):
    open_rendered(page, server_url + "entropy_monitor")
    expect(page.locator(".wb-start button")).to_be_enabled(timeout=30_000)
    measures = page.locator(".wb-measures")
    for title in DEFAULT_TITLES:  # untick the entropies: only geometry is tracked
        measures.get_by_text(title, exact=True).click()
    for title in ("intrinsic dimension", "local rank"):
        measures.get_by_text(title, exact=True).click()
    epochs = page.locator(".wb-epochs input")
    epochs.fill("40")
    epochs.press("Enter")
    page.locator(".wb-start button").click()
    expect(page.locator(".wb-counter-value")).to_have_text(re.compile(r"^\d+$"),
                                                           timeout=60_000)
    expect(page.locator(".wb-plot-layer-1 canvas").first).to_be_visible(timeout=30_000)

    # each plot draws one curve (one data source) per layer: two plots, two sources per layer
    page.wait_for_function(CURVES_WITH_POINTS, arg=[2 * len(LAYERS), 3], timeout=90_000)
    titles = page.evaluate(TITLES)
    assert "Intrinsic dimension" in titles and "Local rank" in titles
    if page.locator(".wb-stop button").is_enabled():
        page.locator(".wb-stop button").click()
    expect(page.locator(".wb-monitor-status")).to_contain_text(re.compile("Stopped|Finished"),
                                                               timeout=30_000)
    page.screenshot(path=artifacts_dir / "entropy_monitor_geometry.png", full_page=True)
    assert page.console_errors == []
