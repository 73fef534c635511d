"""The Decoding Lab in a real headless Chromium: the page trains (first use; the server's runs
folder is a fresh temporary one) or loads the character model in the background and enables
its buttons; Generate and Step draw per-character entropies (two curves over the stable band)
and colour the text; each rule shows its own knob; units relabel the history; the semantic
panel draws the clusters of sampled continuations; a prompt with characters the model does not
know shows a banner instead of a traceback. Screenshots go to test-artifacts/."""
from __future__ import annotations

import pytest
from browser_helpers import open_rendered, wait_for_source

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("no_server_tracebacks")]

expect = pytest.importorskip("playwright.sync_api").expect

#: Training the page's model on first use takes seconds alone, a minute or two on a loaded box.
MODEL_TIMEOUT_MS = 300_000


def test_generate_step_rules_and_semantic_panel(page, server_url, artifacts_dir,
                                                plotted_rows):
    open_rendered(page, server_url + "decoding_lab")
    expect(page.locator(".wb-dl-step button")).to_be_enabled(timeout=MODEL_TIMEOUT_MS)
    expect(page.locator(".wb-dl-status")).to_contain_text("Model:")
    summary = page.locator(".wb-dl-summary")

    # top-k shows its k and hides the other knobs
    page.locator(".wb-dl-rule select").select_option(label="top-k")
    expect(page.locator(".wb-dl-knob-top_k")).to_be_visible()
    expect(page.locator(".wb-dl-knob-top_p")).to_be_hidden()

    page.locator(".wb-dl-generate button").click()
    expect(summary).to_contain_text("40 characters with top-k", timeout=30_000)
    expect(summary).to_contain_text("bits")
    expect(page.locator(".wb-dl-text .wb-dl-tok")).to_have_count(40)
    expect(page.locator(".wb-dl-table tbody tr")).to_have_count(40)
    wait_for_source(page, plotted_rows, "truncated_entropy", 40)
    wait_for_source(page, plotted_rows, "model_entropy", 40)
    expect(summary).to_contain_text("stable band [")
    expect(page.locator(".wb-dl-plot canvas").first).to_be_visible()
    page.screenshot(path=artifacts_dir / "decoding_lab_generate.png", full_page=True)

    page.locator(".wb-dl-step button").click()
    expect(summary).to_contain_text("41 characters", timeout=30_000)
    expect(page.locator(".wb-dl-table tbody tr")).to_have_count(41)
    page.locator(".wb-dl-units button", has_text="nats").click()
    expect(summary).to_contain_text("nats", timeout=30_000)

    page.locator(".wb-dl-rule select").select_option(label="locally typical")
    expect(page.locator(".wb-dl-knob-typical_mass")).to_be_visible()
    expect(page.locator(".wb-dl-knob-top_k")).to_be_hidden()

    page.locator(".wb-dl-sample button").click()
    se = page.locator(".wb-dl-se-result")
    expect(se).to_contain_text("Semantic entropy", timeout=30_000)
    expect(se).to_contain_text("nats from counts")
    expect(page.locator(".wb-dl-se-plot canvas").first).to_be_visible(timeout=30_000)
    wait_for_source(page, plotted_rows, "probability", 2)
    expect(page.locator(".wb-dl-se-table tbody tr")).to_have_count(10)
    page.screenshot(path=artifacts_dir / "decoding_lab_semantic.png", full_page=True)

    # a character the model never saw is a message, not a traceback; a good prompt clears it
    box = page.locator(".wb-dl-prompt input")
    box.fill("Ωmega")
    box.press("Enter")
    expect(page.locator(".wb-dl-error")).to_contain_text("not in the vocabulary",
                                                          timeout=30_000)
    box.fill("Alice said ")
    box.press("Enter")
    expect(page.locator(".wb-dl-error")).to_be_hidden(timeout=30_000)
    expect(summary).to_contain_text("Type a prompt")
    assert page.console_errors == []
