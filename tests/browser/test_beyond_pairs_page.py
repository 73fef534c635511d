"""The Beyond Pairs page in a real headless Chromium: it loads with the XOR gate's PID (one
bit of synergy, drawn as bars), switching to the COPY gate recomputes the atoms, the
O-information analysis draws the multiplet heatmap, and a bad column choice shows a banner
instead of a traceback. Every setting recomputes by itself; Compute is pressed once to check
the button. Screenshots go to test-artifacts/."""
from __future__ import annotations

import pytest
from browser_helpers import open_rendered, wait_for_source

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_server_tracebacks")]

expect = pytest.importorskip("playwright.sync_api").expect


def open_page(page, server_url: str) -> None:
    open_rendered(page, server_url + "beyond_pairs")
    expect(page.locator(".wb-bp-compute button")).to_be_enabled(timeout=30_000)


def compute(page) -> None:
    page.locator(".wb-bp-compute button").click()


def test_gates_pid_and_multiplets(page, server_url, artifacts_dir, plotted_rows):
    open_page(page, server_url)
    result = page.locator(".wb-bp-result")
    # XOR: the default gate and analysis; all of its bit is synergy (BROJA)
    expect(result).to_contain_text("synergy 1.000 bits", timeout=30_000)
    expect(result).to_contain_text("redundancy 0.000")
    expect(page.locator(".wb-bp-plot canvas").first).to_be_visible(timeout=30_000)
    wait_for_source(page, plotted_rows, "label", 4)  # the four atom bars
    page.screenshot(path=artifacts_dir / "beyond_pairs_xor.png", full_page=True)

    # COPY under BROJA: one unique bit per source, no synergy
    page.locator(".wb-bp-gate select").select_option("copy")
    expect(result).to_contain_text("unique1 1.000", timeout=30_000)
    expect(result).to_contain_text("synergy 0.000")
    expect(page.locator(".wb-bp-plot canvas").first).to_be_visible(timeout=30_000)

    # O-information of the XOR triplet: -1 bit, drawn as a heatmap. Each setting is changed
    # once the previous one's result and plot are drawn, as a reader would: a plot replaced
    # while BokehJS still builds the previous one has thrown inside BokehJS ("reading
    # 'firstChild'" of a removed element, 1 CI run in 2, never alone in 10 runs)
    page.locator(".wb-bp-gate select").select_option("xor")
    expect(result).to_contain_text("synergy 1.000 bits", timeout=30_000)
    expect(page.locator(".wb-bp-plot canvas").first).to_be_visible(timeout=30_000)
    page.locator(".wb-bp-analysis button", has_text="O-information").click()
    expect(result).to_contain_text("Ω = -1.000 bits", timeout=30_000)
    wait_for_source(page, plotted_rows, "measure", 4)  # one multiplet x (TC, DTC, Ω, Σ) cells
    expect(page.locator(".wb-bp-plot canvas").first).to_be_visible(timeout=30_000)
    page.screenshot(path=artifacts_dir / "beyond_pairs_multiplets.png", full_page=True)

    # a bad column list is a message, not a traceback
    page.locator(".wb-bp-analysis button", has_text="PID").click()
    box = page.locator(".wb-bp-columns input")
    box.fill("0,0,1")
    box.press("Enter")
    expect(page.locator(".wb-bp-error")).to_contain_text("three distinct", timeout=30_000)
    box.fill("0,1,2")
    box.press("Enter")
    compute(page)
    expect(result).to_contain_text("synergy 1.000 bits", timeout=30_000)
    expect(page.locator(".wb-bp-error")).to_be_hidden()
    assert page.console_errors == []
