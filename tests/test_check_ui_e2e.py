"""The Check draft tab in a real headless Chromium: `dossier ingest` the seed article, `dossier serve` it
(real embedder, index and checker), paste a paragraph with one wrong year and one invented claim, and
see the year flagged with the source's own sentence, the claim marked not found, the filter, the open
in document button, and both exports. Screenshots go to test-artifacts/screenshots/.

Needs the Debian `chromium` package; skipped with a reason without it."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DOSSIER, REPO, SHOTS, chromium_page, cli_env, ingest_seed, needs_chromium, serving

PARAGRAPH = ("The EU's embargo against Belarus dates to 2015. "
             "According to tender documents, the cameras can detect people up to 110 meters away. "
             "The cameras were installed by a Finnish engineering firm in Grodno.")

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("check-e2e") / "data"
    ingest_seed(cli_env(data_dir))
    with serving(data_dir, data_dir.parent / "serve.log") as (_, base):
        yield base, data_dir


@pytest.fixture
def page(server):
    with chromium_page(server[0]) as pg:
        yield pg


def test_check_draft_tab_flags_the_wrong_year_and_the_invented_claim(page, server):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Check draft").click()
    page.fill("#check-draft textarea", PARAGRAPH)
    page.click("#check-run")
    expect(page.locator("#check-status")).to_contain_text("3 sentences checked", timeout=60_000)

    wrong = page.locator("#ck-s1")
    expect(wrong).to_have_class(re.compile(r"\bck-contradicted\b"))
    expect(wrong).to_have_text("The EU's embargo against Belarus dates to 2015.")
    expect(page.locator("#ck-s2")).to_have_class(re.compile(r"\bck-supported\b"))
    expect(page.locator("#ck-s3")).to_have_class(re.compile(r"\bck-unsupported\b"))
    item = page.locator("#ck-e1")
    expect(item.locator(".ck-reason")).to_contain_text("2011")
    expect(item.locator("mark")).to_contain_text("which dates to 2011")  # the source's own sentence, marked
    invented = page.locator("#ck-e3")
    expect(invented.locator(".ck-badge")).to_contain_text("not found")
    expect(invented.locator(".src-card")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "10-check-draft.png"))

    # only contradicted: the supported and the invented sentence leave the evidence column, stay dimmed in the draft
    page.locator("#check-filter").get_by_label("contradicted", exact=True).check()
    expect(page.locator("#ck-evidence .ck-item")).to_have_count(1)
    expect(page.locator("#ck-s2")).to_have_class(re.compile(r"\bck-dim\b"))
    page.locator("#check-filter").get_by_label("unsupported", exact=True).check()
    expect(page.locator("#ck-evidence .ck-item")).to_have_count(1)
    expect(page.locator("#ck-e3")).to_be_visible()
    page.locator("#check-filter").get_by_label("all", exact=True).check()
    expect(page.locator("#ck-evidence .ck-item")).to_have_count(3)

    # exports: Markdown with footnotes carrying the quote and the document's sha256, and the JSON
    with page.expect_download() as dl:
        page.click("#check-export-md")
    md = Path(dl.value.path()).read_text(encoding="utf-8")
    assert re.search(r"dates to 2015\.\[\^1\] \*\(contradicted: .*2011", md)
    assert "Grodno. *(not found in the sources)*" in md
    foot = next(line for line in md.splitlines() if line.startswith("[^1]:"))
    assert "which dates to 2011" in foot and re.search(r"sha256 `[0-9a-f]{64}`", foot)
    with page.expect_download() as dl:
        page.click("#check-export-json")
    obj = json.loads(Path(dl.value.path()).read_text(encoding="utf-8"))
    assert [s["verdict"] for s in obj["sentences"]] == ["contradicted", "supported", "unsupported"]
    assert obj["summary"] == {"supported": 1, "contradicted": 1, "unsupported": 1}

    # `dossier check` on the same paragraph (same store, read while the app serves it): same verdicts, exit 1
    cli = subprocess.run(DOSSIER + ["check", "-", "--json"], input=PARAGRAPH, cwd=REPO, env=cli_env(server[1]),
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 1, cli.stderr
    assert [s["verdict"] for s in json.loads(cli.stdout)["sentences"]] == ["contradicted", "supported", "unsupported"]

    # the evidence card opens the document at the quote
    item.locator("button.open-doc").click()
    expect(page.get_by_role("tab", name="Document")).to_have_attribute("aria-selected", "true")
    hl = page.locator("#doc-view #doc-hl")
    expect(hl).to_contain_text("which dates to 2011")
    expect(hl).to_be_in_viewport()
    page.screenshot(path=str(SHOTS / "11-check-open-document.png"))
    assert not page.errors


def test_check_draft_tab_empty_draft_is_an_error_not_a_result(page):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Check draft").click()
    page.fill("#check-draft textarea", "   ")
    page.click("#check-run")
    expect(page.get_by_text("the draft is empty").first).to_be_visible()
    expect(page.locator("#ck-draft")).to_have_count(0)
    assert not page.errors


def test_check_draft_tab_reads_an_uploaded_docx(page, tmp_path):
    import docx
    from playwright.sync_api import expect

    d = docx.Document()
    d.add_heading("Draft", level=1)
    d.add_paragraph("The embargo was last renewed in February 2019. Belarus still uses the death penalty.")
    path = tmp_path / "draft.docx"
    d.save(path)
    page.get_by_role("tab", name="Check draft").click()
    page.locator("#check-upload input[type=file]").set_input_files(str(path))
    page.click("#check-run")
    expect(page.locator("#check-status")).to_contain_text("2 sentences checked", timeout=60_000)
    expect(page.locator("#ck-s1")).to_have_class(re.compile(r"\bck-contradicted\b"))
    expect(page.locator("#ck-e1 .ck-reason")).to_contain_text("2018")
    expect(page.locator("#ck-s2")).to_have_class(re.compile(r"\bck-supported\b"))
    assert not page.errors
