"""The Quotes tab in a real headless Chromium: `dossier ingest` the seed article, `dossier serve` it, open the
Quotes tab, search for a speaker, pick him, see his quotations (those attributed by "he wrote in an email"
among them), open one in the document at its span, and export his quotations as Markdown with provenance.
What the page must show is read from `dossier quotes --json` of the same store, not written here.
Screenshots go to test-artifacts/screenshots/.

Needs the Debian `chromium` package; skipped with a reason without it."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DOSSIER, REPO, SHOTS, chromium_page, cli_env, ingest_seed, needs_chromium, serving


pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("quotes-e2e") / "data"
    env = cli_env(data_dir)
    ingest_seed(env)
    res = subprocess.run(DOSSIER + ["quotes", "--speaker", "Bychkovskiy", "--json"], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    with serving(data_dir, data_dir.parent / "serve.log") as (_, base):
        yield base, rows


@pytest.fixture
def page(server):
    with chromium_page(server[0]) as pg:
        yield pg


def test_quotes_tab_lists_a_speakers_quotes_opens_the_document_and_exports(page, server):
    from playwright.sync_api import expect

    rows = server[1]
    assert rows, "the store must hold his quotations"
    page.get_by_role("tab", name="Quotes").click()
    speakers = page.locator("#qt-speakers")
    expect(speakers.locator("label").first).to_be_visible()
    n_all = speakers.locator("label").count()

    # searching narrows the speakers; an organisation finds its people too
    page.fill("#qt-search textarea, #qt-search input", "SBC")
    expect(speakers.get_by_text(re.compile(r"^Anton Bychkovskiy"))).to_be_visible()
    expect(speakers.locator("label")).not_to_have_count(n_all)
    speakers.get_by_text(re.compile(r"^Anton Bychkovskiy")).click()

    items = page.locator("#qt-view .qt-item")
    expect(items).to_have_count(len(rows))
    expect(page.locator("#qt-head")).to_contain_text("spokesman")
    for i, r in enumerate(rows):  # the exact stored quotations, in the order the CLI lists them
        expect(items.nth(i).locator(".qt-quote")).to_contain_text(r["quote"])
    emailed = next(i for i, r in enumerate(rows) if r["quote"].startswith("The border guard officers operated"))
    page.screenshot(path=str(SHOTS / "12-quotes-tab.png"))

    # export: every quotation with a footnote carrying the document's sha256 and the offsets
    with page.expect_download() as dl:
        page.click("#qt-export")
    md = Path(dl.value.path()).read_text(encoding="utf-8")
    assert md.startswith("# Quotations of Anton Bychkovskiy")
    assert len(re.findall(r"^\d+\. “", md, re.M)) == len(rows)
    r = rows[emailed]
    foot = next(line for line in md.splitlines() if line.startswith(f"[^{emailed + 1}]:"))
    assert f"chars {r['start']}–{r['end']}" in foot and re.search(r"sha256 `[0-9a-f]{64}`", foot)

    # open in document: the Document tab at the quote's span
    items.nth(emailed).locator("button.open-doc").click()
    expect(page.get_by_role("tab", name="Document")).to_have_attribute("aria-selected", "true")
    hl = page.locator("#doc-view #doc-hl")
    expect(hl).to_have_text(r["quote"])
    expect(hl).to_be_in_viewport()
    page.screenshot(path=str(SHOTS / "13-quotes-open-document.png"))
    assert not page.errors


def test_quotes_tab_search_by_the_words_of_a_quote(page):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Quotes").click()
    page.fill("#qt-search textarea, #qt-search input", "frightening to watch")
    speakers = page.locator("#qt-speakers label")
    expect(speakers).to_have_count(1)
    expect(speakers.first).to_contain_text("Lemberg-Pedersen")
    expect(page.locator("#qt-view .qt-item").first).to_contain_text("The videos are frightening to watch")
    page.fill("#qt-search textarea, #qt-search input", "zzzz nobody said this")
    expect(page.locator("#qt-view")).to_contain_text("No quotation matches this search.")
    assert not page.errors
