"""The served apps in a real headless Chromium: pages load cleanly, the Estimator Lab reacts to
its widgets, and bad uploads end in an error banner (never a traceback)."""
from __future__ import annotations

import io
import time

import numpy as np
import param
import pytest

from widgets.app import available_pages
from workbench.estimators import get_estimator_class
from workbench.lab import methods_for

# every test here also fails if the server logged a traceback through our code
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_server_tracebacks")]

expect = pytest.importorskip("playwright.sync_api").expect


def rendered(page, url: str) -> None:
    """Open ``url`` and wait until Bokeh reports its items rendered."""
    with page.expect_console_message(lambda m: "rendered successfully" in m.text,
                                     timeout=30_000):
        page.goto(url)


def open_lab(page, server_url: str) -> None:
    rendered(page, server_url + "estimator_lab")
    expect(page.locator(".wb-estimate-value")).to_be_visible(timeout=30_000)


def shown_value(page) -> float:
    return float(page.locator(".wb-estimate-value").inner_text())


def estimate_by(page, label: str, timeout_s: float = 30.0) -> float:
    """The estimate once the result card names ``label`` ("by ksg2," or "ksg2(k=7)"), read
    from one snapshot of the card: its symbol and its value are separate DOM nodes, and two
    reads can straddle an update."""
    card = page.locator(".wb-symbol").locator("xpath=..")  # the card holding symbol and value
    deadline = time.monotonic() + timeout_s
    while True:
        text = card.evaluate("el => el.innerHTML")
        if label in text:
            value = card.evaluate(
                "el => el.querySelector('.wb-estimate-value').textContent")
            if label in card.evaluate("el => el.innerHTML"):  # unchanged in between
                return float(value)
        if time.monotonic() > deadline:
            raise AssertionError(f"the result never showed {label!r}; last: {text[:200]}")
        page.wait_for_timeout(100)


def other_method_with_integer_knob(default: str) -> tuple[str, str, int]:
    """A kNN MI method other than ``default``, its neighbour count ``k``, and a new value for it
    inside its bounds: a knob that moves the estimate on any continuous data (a compression
    dimension, say, does nothing on the 1-D default task). Fixed order, so the choice does not
    depend on which estimator modules a test run imported first."""
    for name in sorted(methods_for("mutual_info")):
        cls = get_estimator_class(name)
        if name == default or cls.family != "knn" or "k" not in cls.knob_names():
            continue
        p = cls.param["k"]
        assert isinstance(p, param.Integer)
        return name, "k", p.default + 4
    pytest.skip("no second kNN MI method is registered")


@pytest.mark.parametrize("slug", ["", *[p.slug for p, _ in available_pages()]])
def test_page_loads_without_console_errors(page, server_url, artifacts_dir, slug):
    rendered(page, server_url + slug)
    if slug == "estimator_lab":
        expect(page.locator(".wb-estimate-value")).to_be_visible(timeout=30_000)
        expect(page.locator(".wb-plot-n canvas").first).to_be_visible(timeout=30_000)
    elif slug == "":
        expect(page.locator(".wb-page-link").first).to_be_visible()
    page.wait_for_timeout(1000)  # late errors from the first updates
    page.screenshot(path=artifacts_dir / f"page-{slug or 'index'}.png", full_page=True)
    assert page.console_errors == []


def test_index_links_every_page(page, server_url):
    rendered(page, server_url)
    hrefs = [a.get_attribute("href") for a in page.locator(".wb-page-link").all()]
    assert sorted(h.strip("./") for h in hrefs) == sorted(p.slug for p, _ in available_pages())


def test_changing_estimator_and_knob_changes_the_estimate(page, server_url, artifacts_dir):
    open_lab(page, server_url)
    symbol = page.locator(".wb-symbol")
    default = symbol.locator("b").inner_text()
    first = shown_value(page)
    name, knob, value = other_method_with_integer_knob(default)
    family = get_estimator_class(name).family
    page.locator(".wb-method select").select_option(label=f"{name} ({family})")
    second = estimate_by(page, f"<b>{name}</b>,")
    knob_input = page.locator(f".wb-knob-{knob} input")
    knob_input.fill(str(value))
    knob_input.press("Enter")
    third = estimate_by(page, f"<b>{name}({knob}={value})</b>")
    page.screenshot(path=artifacts_dir / "estimator_lab_knob.png", full_page=True)
    assert second != first and third != second
    assert page.console_errors == []


def _npy_with_pickled_objects() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    return buf.getvalue()


@pytest.mark.parametrize("filename, content", [
    ("objects.npy", _npy_with_pickled_objects()),
    ("words.csv", b"a,b\n1.0,hello\n2.0,world\n"),
], ids=["pickled-npy", "text-csv"])
def test_bad_upload_shows_error_banner(page, server_url, artifacts_dir, filename, content):
    open_lab(page, server_url)
    page.locator(".wb-source button", has_text="Upload").click()
    page.locator(".wb-upload-x input[type=file]").set_input_files(
        files=[{"name": filename, "mimeType": "application/octet-stream", "buffer": content}])
    banner = page.locator(".wb-error")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(filename)
    assert "Traceback" not in banner.inner_text()
    page.screenshot(path=artifacts_dir / f"estimator_lab_bad_{filename}.png", full_page=True)


def test_good_csv_upload_gives_an_estimate(page, server_url):
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    table = np.column_stack([x, x + 0.5 * rng.normal(size=300)])
    buf = io.StringIO()
    np.savetxt(buf, table, delimiter=",", header="x,y", comments="")
    open_lab(page, server_url)
    page.locator(".wb-source button", has_text="Upload").click()
    page.locator(".wb-upload-x input[type=file]").set_input_files(
        files=[{"name": "pairs.csv", "mimeType": "text/csv", "buffer": buf.getvalue().encode()}])
    expect(page.locator(".wb-symbol")).to_contain_text("n = 300")
    expect(page.locator(".wb-error")).to_be_hidden()
    assert shown_value(page) > 0.3  # true I = ½ log2(1 + 4) ≈ 1.16 bits; any sane estimate > 0.3


def test_mine_knob_panel_shows_knobs_but_no_execution_settings(page, server_url):
    open_lab(page, server_url)
    family = get_estimator_class("mine").family
    page.locator(".wb-method select").select_option(label=f"mine ({family})")
    expect(page.locator(".wb-knob-steps input").first).to_be_visible(timeout=30_000)
    for setting in ("callback", "device", "threads", "progress"):
        assert page.locator(f".wb-knob-{setting}").count() == 0, setting
    expect(page.locator(".wb-knob-embed_dim")).to_contain_text("Embedding dimension")
    assert page.locator(".wb-knob-seed").count() == 1
    assert page.console_errors == []
