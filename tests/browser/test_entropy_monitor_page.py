"""The Entropy Monitor in a real headless Chromium: the page loads cleanly, a short Layers run
advances the counter and puts data in the plots, Stop answers, and the Attention tab draws its
layer × head heatmap. Screenshots go to test-artifacts/."""
from __future__ import annotations

import re

import pytest
from browser_helpers import open_rendered, set_number, wait_until

# every test here also fails if the server logged a traceback through our code
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_server_tracebacks")]

expect = pytest.importorskip("playwright.sync_api").expect


#: The distinct last values of ``column`` over the non-empty Bokeh data sources that have it.
LAST_VALUES = """
(column) => {
  const tops = new Set();
  for (const doc of window.Bokeh.documents) {
    for (const model of doc.all_models) {
      const data = model.data;
      if (data === undefined || data === null) continue;
      const values = data instanceof Map ? data.get(column) : data[column];
      if (values === undefined || !values.length) continue;
      let top = -Infinity;
      for (const v of values) if (v > top) top = v;
      tops.add(top);
    }
  }
  return [...tops].sort((a, b) => a - b);
}
"""
#: Texts of the plot titles that start with ``prefix``.
TITLES = """
(prefix) => {
  const found = [];
  for (const doc of window.Bokeh.documents) {
    for (const model of doc.all_models) {
      if (model.type === "Title" && typeof model.text === "string"
          && model.text.startsWith(prefix)) found.push(model.text);
    }
  }
  return found;
}
"""


def open_monitor(page, server_url: str) -> None:
    open_rendered(page, server_url + "entropy_monitor")
    expect(page.locator(".wb-start button")).to_be_enabled(timeout=30_000)


def counter(page) -> int:
    text = page.locator(".wb-counter-value").inner_text()
    return int(text) if text.isdigit() else -1


def test_page_loads_without_console_errors(page, server_url, artifacts_dir):
    open_monitor(page, server_url)
    # idle: the counter says so, on either tab (no "epoch – / 100")
    expect(page.locator(".wb-monitor-counter")).to_have_text("not started")
    expect(page.locator(".wb-monitor-tabs")).to_contain_text("Attention")
    page.wait_for_timeout(1000)
    page.screenshot(path=artifacts_dir / "entropy_monitor_idle.png", full_page=True)
    page.locator(".wb-monitor-tabs").get_by_text("Attention", exact=True).click()
    expect(page.locator(".wb-attention-hint")).to_be_visible()
    expect(page.locator(".wb-monitor-counter")).to_have_text("not started")
    assert page.console_errors == []


def test_short_layers_run_streams_into_the_plots(page, server_url, artifacts_dir, plotted_rows):
    open_monitor(page, server_url)
    set_number(page, ".wb-epochs", 60)
    page.locator(".wb-start button").click()
    # the counter advances while training runs on its thread
    expect(page.locator(".wb-counter-value")).to_have_text(re.compile(r"^\d+$"),
                                                           timeout=60_000)
    expect(page.locator(".wb-plot-layer-0 canvas").first).to_be_visible(timeout=30_000)
    wait_until(page, lambda: plotted_rows(page, "epoch") >= 3, "three epochs plotted")
    first = counter(page)
    wait_until(page, lambda: counter(page) > first, "the counter to move")
    page.locator(".wb-stop button").click()
    expect(page.locator(".wb-monitor-status")).to_contain_text("Stopped at epoch",
                                                               timeout=30_000)
    stopped = counter(page)
    assert 1 <= stopped < 60
    assert plotted_rows(page, "epoch") >= 3
    # every plot ends at the epoch the counter shows
    wait_until(page, lambda: page.evaluate(LAST_VALUES, "epoch") == [stopped],
               f"every plot to end at epoch {stopped}")
    # axes name the units
    expect(page.locator(".wb-layer-plots")).to_be_visible()
    page.screenshot(path=artifacts_dir / "entropy_monitor_layers.png", full_page=True)
    assert page.console_errors == []


def test_attention_tab_shows_the_heatmap(page, server_url, artifacts_dir, plotted_rows):
    open_monitor(page, server_url)
    page.locator(".wb-monitor-tabs").get_by_text("Attention", exact=True).click()
    set_number(page, ".wb-tknob-steps", 30)
    page.locator(".wb-start button").click()
    expect(page.locator(".wb-plot-heatmap canvas").first).to_be_visible(timeout=30_000)
    expect(page.locator(".wb-monitor-status")).to_contain_text("Finished: 30 steps",
                                                               timeout=120_000)
    expect(page.locator(".wb-attention-flags")).to_contain_text("Flagged heads at step 30: ")
    # 4 layers x 4 heads of entropies reached the heatmap's data source
    assert plotted_rows(page, "head") == 16
    # the heatmap's title names the step it shows: the last, as in the counter and the curves
    wait_until(page, lambda: page.evaluate(TITLES, "Attention entropy per head")
               == ["Attention entropy per head at step 30"], "the heatmap title of step 30")
    assert counter(page) == 30
    wait_until(page, lambda: page.evaluate(LAST_VALUES, "step") == [30],
               "every plot to end at step 30")
    page.screenshot(path=artifacts_dir / "entropy_monitor_attention.png", full_page=True)
    assert page.console_errors == []
