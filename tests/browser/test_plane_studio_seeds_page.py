"""The Plane Studio's seeds overlay in a real headless Chromium: three seeds of a short run
train on the server, the status counts them, the band plane's Bokeh data arrive with the mean
trajectory and its spread, and the compression table over seeds is shown."""
from __future__ import annotations

import json

import pytest
from browser_helpers import open_rendered, set_number, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = pytest.importorskip("playwright.sync_api").expect

#: bounds a hang on a loaded 2-core machine, not the speed (three 3-epoch runs take seconds)
WAIT = 120.0
ANSWER = 20_000  # ms for one round trip to the server

#: Rows of the band plane's mean curves: Bokeh sources carrying the std columns.
BAND_ROWS_JS = """() => {
  let n = 0;
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    const d = m.type === 'ColumnDataSource' ? m.data : null;
    if (!d) continue;
    const get = (k) => (d instanceof Map ? d.get(k) : d[k]);
    if (get('ixt_std') && get('n_seeds')) {
      for (const s of get('n_seeds')) if (s === 3) n += 1;
    }
  }
  return n;
}"""


def test_seeds_overlay_draws_the_band(page, studio_url, tmp_path, artifacts_dir):
    # a loaded machine can take long to build the first page (the server warms up on it)
    open_rendered(page, studio_url, 120_000)
    expect(page.locator(".wb-run-seeds button")).to_be_enabled(timeout=ANSWER)
    for css, value in ((".wb-epochs", 3), (".wb-seeds", "0-2")):
        set_number(page, css, value)
    page.wait_for_timeout(500)
    page.locator(".wb-run-seeds button").click()
    status = page.locator(".wb-seeds-status-text")
    expect(status).to_contain_text("Done: 3 runs", timeout=int(WAIT * 1000))
    rows = wait_until(page, lambda: page.evaluate(BAND_ROWS_JS), "the band's data", 30)
    # 6 layers × 4 recorded epochs (0..3), each the mean of 3 seeds
    assert rows == 6 * 4
    expect(page.locator(".wb-plot-seeds canvas").first).to_be_visible(timeout=ANSWER)
    table = page.locator(".wb-seeds-table")
    expect(table).to_contain_text("/3", timeout=ANSWER)
    expect(table).to_contain_text("layer6", timeout=ANSWER)
    page.locator(".wb-seed-overlay").screenshot(path=artifacts_dir / "plane_studio_seeds.png")
    # the three runs are saved and listed
    expect(page.locator(".wb-run-list select option")).to_have_count(3, timeout=ANSWER)
    assert len([p for p in (tmp_path / "runs").iterdir() if (p / "config.json").exists()]) == 3


#: Texts of the Bokeh titles on the page (the band plane's names its group).
TITLES_JS = """() => {
  const out = [];
  for (const doc of Bokeh.documents) for (const m of doc.all_models)
    if (m.type === 'Title' && m.text) out.push(m.text);
  return out;
}"""


def test_seeds_overlay_trains_the_chosen_objective(page, studio_url, tmp_path, artifacts_dir):
    """CS-IB at β = 0.02 picked in the studio: the seeds runs train that bottleneck objective
    (the band is the bottleneck's, titled by the objective; the saved configs say so)."""
    open_rendered(page, studio_url, 120_000)
    expect(page.locator(".wb-run-seeds button")).to_be_enabled(timeout=ANSWER)
    page.locator(".wb-objective select").select_option(label="CS-IB(β)")
    beta = page.locator(".wb-beta input")
    expect(beta).to_be_enabled(timeout=ANSWER)
    expect(page.locator(".wb-arch input")).to_have_value("12-64-8-2", timeout=ANSWER)
    for css, value in ((".wb-beta", "0.02"), (".wb-epochs", 2), (".wb-seeds", "0-1")):
        set_number(page, css, value)
    page.wait_for_timeout(500)
    page.locator(".wb-run-seeds button").click()
    expect(page.locator(".wb-seeds-status-text")).to_contain_text("Done: 2 runs",
                                                                  timeout=int(WAIT * 1000))
    table = page.locator(".wb-seeds-table")
    expect(table).to_contain_text("bottleneck", timeout=ANSWER)
    expect(table).to_contain_text("csib β=0.02")
    titles = wait_until(page, lambda: [t for t in page.evaluate(TITLES_JS)
                                       if t.startswith("csib β=0.02: mean of 2 seeds")],
                        "the band plane titled by the objective", 30)
    assert len(titles) == 1
    page.locator(".wb-seed-overlay").screenshot(
        path=artifacts_dir / "plane_studio_seeds_csib.png")
    configs = [json.loads((p / "config.json").read_text())
               for p in (tmp_path / "runs").iterdir() if (p / "config.json").exists()]
    assert [(c["objective"], c["beta"]) for c in configs] == [("csib", 0.02)] * 2
    assert page.console_errors == []
