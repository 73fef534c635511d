"""The Plane Studio in a real headless Chromium: a bad architecture ends in a banner, Start
streams points into the information plane and moves the epoch counter, Pause holds it, Resume
continues, Stop ends the run, saved runs appear in the list and two of them overlay in one
plane.

One ``workbench serve`` with its own ``--runs-dir`` (in tmp_path) serves the whole flow, so the
test writes nothing into the repository."""
from __future__ import annotations

import pytest
from browser_helpers import open_rendered, set_number, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = pytest.importorskip("playwright.sync_api").expect

#: A loaded 2-core CI machine trains the default network at a few epochs per second and the
#: page redraws every few hundred ms; these bound a hang, not the speed.
WAIT = 60.0
#: ms for one round trip to the server (Playwright's expect waits only 5 s by default).
ANSWER = 20_000

#: Points in the plane's Bokeh data: the scatter source has ixt, layer and a colour column
#: (max, not sum: sources of plots replaced on Start may linger in the document).
POINTS_JS = """() => {
  let n = 0;
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    const d = m.type === 'ColumnDataSource' ? m.data : null;
    if (!d) continue;
    const get = (k) => (d instanceof Map ? d.get(k) : d[k]);
    if (get('ixt') && get('color') && get('layer')) n = Math.max(n, get('ixt').length);
  }
  return n;
}"""


#: The distinct last epochs of the plots: the largest ``epoch`` of every non-empty Bokeh data
#: source that has that column (lines, points, loss, accuracy, H(T)).
LAST_EPOCHS_JS = """() => {
  const tops = new Set();
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    const d = m.type === 'ColumnDataSource' ? m.data : null;
    if (!d) continue;
    const epochs = d instanceof Map ? d.get('epoch') : d['epoch'];
    if (!epochs || !epochs.length) continue;
    let top = -Infinity;
    for (const e of epochs) if (e > top) top = e;
    tops.add(top);
  }
  return [...tops].sort((a, b) => a - b);
}"""


def epoch_shown(page) -> int | None:
    text = page.locator(".wb-epoch-counter .wb-counter-value").inner_text().strip() \
        if page.locator(".wb-epoch-counter .wb-counter-value").count() else ""
    return int(text) if text.isdigit() else None


def test_start_pause_resume_stop_and_overlay(page, studio_url, tmp_path, artifacts_dir):
    open_rendered(page, studio_url, 30_000)
    expect(page.locator(".wb-start button")).to_be_enabled(timeout=ANSWER)
    assert epoch_shown(page) is None
    # an idle studio says so (no "epoch – / 300")
    expect(page.locator(".wb-epoch-counter")).to_have_text("not started", timeout=ANSWER)

    # a bad architecture: a banner, and Start does nothing
    set_number(page, ".wb-arch", "12-five-2")
    banner = page.locator(".wb-error")
    expect(banner).to_contain_text("widths must look like", timeout=ANSWER)
    page.locator(".wb-start button").click()
    page.wait_for_timeout(1000)
    assert epoch_shown(page) is None and not (tmp_path / "runs").exists()
    set_number(page, ".wb-arch", "12-10-7-5-4-3-2")
    expect(banner).to_be_hidden(timeout=ANSWER)

    set_number(page, ".wb-epochs", 2000)  # far more than the test lets it train
    page.locator(".wb-start button").click()

    # Start: the counter moves and points reach the plane's Bokeh data
    wait_until(page, lambda: (epoch_shown(page) or 0) >= 2, "the epoch counter to move")
    points = wait_until(page, lambda: page.evaluate(POINTS_JS), "points in the plane")
    assert points > 0
    # the counter's text is a separate model update from the plot data: it may arrive later
    wait_until(page, lambda: int(page.locator(".wb-points-value").inner_text()) > 0,
               "the points counter to move")
    expect(page.locator(".wb-plot-plane canvas").first).to_be_visible(timeout=ANSWER)
    page.screenshot(path=artifacts_dir / "plane_studio_running.png")

    # Pause: the counter holds (an epoch already being measured may still arrive)
    page.locator(".wb-pause button").click()
    expect(page.locator(".wb-status-text")).to_contain_text("Paused", timeout=ANSWER)
    expect(page.locator(".wb-resume button")).to_be_enabled(timeout=ANSWER)
    page.wait_for_timeout(2000)
    held = epoch_shown(page)
    page.wait_for_timeout(2000)
    assert epoch_shown(page) - held <= 1

    # Resume: it moves again
    page.locator(".wb-resume button").click()
    wait_until(page, lambda: epoch_shown(page) > held + 1, "training to continue")

    # Stop: the run ends, is saved under --runs-dir and shows up in the list
    page.locator(".wb-stop button").click()
    expect(page.locator(".wb-status-text")).to_contain_text("Stopped", timeout=30_000)
    run_list = page.locator(".wb-run-list select option")
    expect(run_list).to_have_count(1, timeout=ANSWER)
    expect(run_list.first).to_contain_text("stopped", timeout=ANSWER)
    assert len(list((tmp_path / "runs").iterdir())) == 1
    # every plot ends at the epoch the counter shows
    stopped = epoch_shown(page)
    wait_until(page, lambda: page.evaluate(LAST_EPOCHS_JS) == [stopped],
               f"every plot to end at the counter's epoch {stopped}")
    page.screenshot(path=artifacts_dir / "plane_studio_stopped.png")

    # a second, short ReLU run, then both in one plane
    page.locator(".wb-activation select").select_option("relu")
    set_number(page, ".wb-epochs", 3)
    page.locator(".wb-start button").click()
    expect(page.locator(".wb-status-text")).to_contain_text("Finished", timeout=WAIT * 1000)
    expect(run_list).to_have_count(2, timeout=ANSWER)
    page.locator(".wb-run-list select").select_option(label=run_list.all_inner_texts())
    page.locator(".wb-overlay button").click()
    expect(page.locator(".wb-plot-overlay canvas").first).to_be_visible(timeout=30_000)
    expect(page.locator(".wb-error")).to_be_hidden(timeout=ANSWER)
    page.wait_for_timeout(1000)
    page.screenshot(path=artifacts_dir / "plane_studio_finished.png")
    # the main area scrolls by itself: a full-page shot would miss the overlay below the fold
    page.locator(".wb-runs").screenshot(path=artifacts_dir / "plane_studio_overlay.png")
    assert page.console_errors == []
