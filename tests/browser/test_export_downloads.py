"""The export bars of the served pages in a real Chromium: each button's download is a valid,
non-empty file of its kind (PNG magic bytes; standalone HTML with BokehJS inline and no
external script; CSV that parses to the rows shown; Parquet that reads back)."""
from __future__ import annotations

import io
import re

import pandas as pd
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]
expect = pytest.importorskip("playwright.sync_api").expect

#: Training, estimating and making a file on a loaded 2-core machine; bounds a hang.
WAIT_MS = 90_000


def download(page, fmt: str) -> bytes:
    """Click the export bar's ``fmt`` button and return the file it downloads."""
    button = page.locator(f".wb-export-{fmt} .bk-btn").first
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=WAIT_MS) as info:
        button.click()
    path = info.value.path()
    with open(path, "rb") as f:
        return f.read()


def check_files(page) -> pd.DataFrame:
    """Every format of the page's export bar is a valid file; returns the CSV's rows."""
    png = download(page, "png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    html = download(page, "html").decode()
    assert "Bokeh" in html and len(html) > 100_000  # BokehJS itself is in the file
    assert not re.search(r"<script[^>]+src=", html)  # nothing to fetch: opens offline
    rows = pd.read_csv(io.BytesIO(download(page, "csv")))
    assert len(rows) > 0
    parquet = pd.read_parquet(io.BytesIO(download(page, "parquet")))
    # the same rows: compared through CSV text, which writes a missing value and "" alike
    again = pd.read_csv(io.StringIO(parquet.to_csv(index=False)))
    pd.testing.assert_frame_equal(again, rows, check_dtype=False)
    assert page.locator(".wb-export-error").count() == 0
    return rows


def test_plane_studio_exports_a_run(page, server_url, no_server_tracebacks, artifacts_dir):
    page.goto(server_url + "plane_studio")
    start = page.locator(".wb-start button")
    expect(start).to_be_enabled(timeout=30_000)
    epochs = page.locator(".wb-epochs input")
    epochs.fill("4")
    epochs.press("Enter")
    start.click()
    expect(page.locator(".wb-status-text")).to_contain_text("Finished", timeout=WAIT_MS)
    try:
        rows = check_files(page)
    finally:
        page.screenshot(path=artifacts_dir / "export_plane_studio.png", full_page=True)
    assert set(rows["epoch"]) == {0, 1, 2, 3, 4}
    assert {"I(X;T)", "I(T;Y)", "H(T)", "loss"} <= set(rows["quantity"])


def test_estimator_lab_exports_its_plots(page, server_url, no_server_tracebacks,
                                         artifacts_dir):
    page.goto(server_url + "estimator_lab")
    # the default settings draw the error-vs-n and knob plots
    expect(page.locator(".wb-plot-n canvas").first).to_be_visible(timeout=WAIT_MS)
    try:
        rows = check_files(page)
    finally:
        page.screenshot(path=artifacts_dir / "export_estimator_lab.png", full_page=True)
    assert set(rows["plot"]) == {"n", "knob"} and "estimate" in rows


def test_nothing_to_export_says_so(page, server_url, no_server_tracebacks):
    page.goto(server_url + "entropy_monitor")
    button = page.locator(".wb-export-csv .bk-btn").first
    expect(button).to_be_visible(timeout=30_000)
    button.click()
    expect(page.locator(".wb-export-error")).to_contain_text("Nothing to export yet",
                                                             timeout=20_000)
