"""The served apps in a real headless Chromium: pages load cleanly, the Estimator Lab reacts to
its widgets, and bad uploads end in an error banner (never a traceback)."""
from __future__ import annotations

import io
import time

import numpy as np
import param
import pytest
from browser_helpers import open_rendered

from widgets.app import available_pages
from workbench.estimators import get_estimator_class
from workbench.lab import methods_for

# every test here also fails if the server logged a traceback through our code
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_server_tracebacks")]

expect = pytest.importorskip("playwright.sync_api").expect


def open_lab(page, server_url: str) -> None:
    open_rendered(page, server_url + "estimator_lab")
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
    open_rendered(page, server_url + slug)
    if slug == "estimator_lab":
        # the first page of a fresh server: on a fresh clone numba compiles its kernels (about
        # 10 s of CPU) while the first estimate and its error-vs-n sweep run, on 2 busy cores
        expect(page.locator(".wb-estimate-value")).to_be_visible(timeout=120_000)
        expect(page.locator(".wb-plot-n canvas").first).to_be_visible(timeout=120_000)
    elif slug == "":
        expect(page.locator(".wb-page-link").first).to_be_visible()
    page.wait_for_timeout(1000)  # late errors from the first updates
    page.screenshot(path=artifacts_dir / f"page-{slug or 'index'}.png", full_page=True)
    assert page.console_errors == []


def test_index_links_every_page(page, server_url):
    open_rendered(page, server_url)
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
    expect(banner).to_be_visible(timeout=30_000)  # after any job already running
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


def choose_method(page, label: str) -> None:
    page.locator(".wb-method select").select_option(label=label)


def test_auto_shows_the_method_it_chose_and_why(page, server_url, artifacts_dir):
    open_lab(page, server_url)
    choose_method(page, "auto (chosen from the data)")
    reason = page.locator(".wb-auto-reason")
    expect(reason).to_be_visible(timeout=30_000)
    expect(reason).to_contain_text("auto chose")
    expect(reason).to_contain_text("continuous")  # the default task is a continuous pair
    expect(page.locator(".wb-symbol")).to_contain_text("(auto)")
    expect(page.locator(".wb-method-summary")).to_contain_text("choose_method")
    page.screenshot(path=artifacts_dir / "estimator_lab_auto.png", full_page=True)
    assert page.console_errors == []


def test_progress_bar_shows_while_mine_trains(page, server_url, artifacts_dir):
    open_lab(page, server_url)
    choose_method(page, "mine (neural)")
    expect(page.locator(".wb-result .wb-symbol")).to_have_count(0, timeout=30_000)  # ksg's gone
    # far more steps than the test waits for, and no early stop: the bar stays up
    for knob, value in (("steps", "200000"), ("patience", "100000")):
        box = page.locator(f".wb-knob-{knob} input")
        box.fill(value)
        box.press("Enter")
    label = page.locator(".wb-progress-label")
    expect(label).to_contain_text("of 200,000", timeout=60_000)
    expect(label).to_contain_text("left", timeout=30_000)
    expect(page.locator("progress.wb-progress")).to_be_visible(timeout=30_000)
    page.screenshot(path=artifacts_dir / "estimator_lab_progress.png", full_page=True)
    # switching away stops the training and the page comes back to a kNN estimate
    choose_method(page, "ksg (knn)")
    estimate_by(page, "<b>ksg</b>,", timeout_s=60)
    expect(page.locator(".wb-working")).to_be_hidden(timeout=60_000)
    assert page.console_errors == []


def test_sample_size_above_the_limit_says_so(page, server_url):
    open_lab(page, server_url)
    box = page.locator(".wb-n input")
    box.fill("300000")
    box.press("Enter")
    banner = page.locator(".wb-error")
    expect(banner).to_contain_text("above the limit of 200,000", timeout=30_000)
    expect(page.locator(".wb-estimate-value")).to_have_count(0, timeout=30_000)
    box.fill("400")
    box.press("Enter")
    expect(page.locator(".wb-symbol")).to_contain_text("n = 400", timeout=30_000)
    expect(banner).to_be_hidden(timeout=30_000)


XSS = '<img src=x onerror="window.__x=1">'


@pytest.mark.parametrize("filename, content", [
    (f"{XSS}.npy", b"not an npy file"),
    ("header.csv", f"a,{XSS}\n1.0,x\n2.0,y\n".encode()),
], ids=["file-name", "csv-header"])
def test_uploaded_markup_is_shown_as_text_never_run(page, server_url, artifacts_dir, filename,
                                                    content):
    open_lab(page, server_url)
    page.locator(".wb-source button", has_text="Upload").click()
    page.locator(".wb-upload-x input[type=file]").set_input_files(
        files=[{"name": filename, "mimeType": "application/octet-stream", "buffer": content}])
    banner = page.locator(".wb-error")
    expect(banner).to_contain_text(XSS, timeout=30_000)  # the markup, literally
    assert page.locator(".wb-error img").count() == 0  # no element was made from it
    assert page.evaluate("typeof window.__x") == "undefined"
    page.screenshot(path=artifacts_dir / f"estimator_lab_xss_{filename[-3:]}.png",
                    full_page=True)
    assert page.console_errors == []


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
