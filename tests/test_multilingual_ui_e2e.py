"""A Russian source card in a real headless Chromium (#16): `dossier ingest` the seed article and a short Russian
brief, `dossier serve` them on a free 127.0.0.1 port (real embedders, real stores, the real extractive engine
with its cross-language scorer) and ask in English about a figure that only the Russian brief gives: the answer
quotes the Russian sentence verbatim, the card says "Russian" and marks its passage lang="ru", the export keeps
the original text. Screenshot in test-artifacts/screenshots/.

Needs the Debian `chromium` package (/usr/bin/chromium); skipped with a reason without it."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DOSSIER, REPO, SHOTS, chromium_page, cli_env, needs_chromium, serving
from tests.conftest import ask_in_page as ask

pytestmark = needs_chromium

RU = REPO / "tests" / "fixtures" / "multilingual" / "ru-varnia-cameras.txt"
QUESTION = "How many detentions did the Varnian border guards make in the system's first half year?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("e2e-ml") / "data"
    ing = subprocess.run(DOSSIER + ["ingest", str(REPO / "sources" / "docs" / "equipping-a-dictator.txt"), str(RU)],
                         cwd=REPO, env=cli_env(data_dir), capture_output=True, text=True, timeout=300)
    assert ing.returncode == 0, ing.stdout + ing.stderr
    with serving(data_dir, data_dir.parent / "serve.log") as (_, base):
        yield base, data_dir


def test_english_question_russian_card_and_export(server):
    from playwright.sync_api import expect

    with chromium_page(server[0], timeout_ms=60_000) as page:
        bot = ask(page, QUESTION, 1)
        expect(bot).to_contain_text("задержали 214 нарушителей границы")
        bot.locator("a.cite").first.click()
        card = page.locator("#src-t1-1")
        expect(card.locator(".badge.lang")).to_have_text("Russian")
        passage = card.locator("blockquote.src-passage")
        expect(passage).to_have_attribute("lang", "ru")
        expect(passage).to_have_attribute("dir", "ltr")
        expect(card.locator("mark")).to_contain_text("пограничники задержали 214 нарушителей границы")
        expect(card.locator(".src-title")).to_have_text("ru-varnia-cameras")  # a .txt file is titled by its name
        page.screenshot(path=str(SHOTS / "16-russian-source-card.png"))

        with page.expect_download() as dl:
            page.click("#export-last")
        md = Path(dl.value.path()).read_text(encoding="utf-8")
        foot = next(line for line in md.splitlines() if line.startswith("[^1]:"))
        assert "задержали 214 нарушителей границы" in foot and "in Russian" in foot
        assert re.search(r"sha256 `[0-9a-f]{64}`", foot)
        assert not page.errors
