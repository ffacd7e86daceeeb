"""A Russian source card in a real headless Chromium (#16): `dossier ingest` the seed article and a short Russian
brief, `dossier serve` them on a free 127.0.0.1 port (real embedders, real stores, the real extractive engine
with its cross-language scorer) and ask in English about a figure that only the Russian brief gives: the answer
quotes the Russian sentence verbatim, the card says "Russian" and marks its passage lang="ru", the export keeps
the original text. Screenshot in test-artifacts/screenshots/.

Needs the Debian `chromium` package (/usr/bin/chromium); skipped with a reason without it."""
from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.test_ui_e2e import CHROMIUM, DOSSIER, REPO, SHOTS, _env, _free_port, ask

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not found: apt-get install chromium")

RU = REPO / "tests" / "fixtures" / "multilingual" / "ru-varnia-cameras.txt"
QUESTION = "How many detentions did the Varnian border guards make in the system's first half year?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("e2e-ml") / "data"
    env = _env(data_dir)
    ing = subprocess.run(DOSSIER + ["ingest", str(REPO / "sources" / "docs" / "equipping-a-dictator.txt"), str(RU)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert ing.returncode == 0, ing.stdout + ing.stderr
    port = _free_port()
    log_path = data_dir.parent / "serve.log"
    log = log_path.open("w")
    proc = subprocess.Popen(DOSSIER + ["serve", "--host", "127.0.0.1", "--port", str(port)], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            assert proc.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{base}/api/health", timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.time() < deadline, "server did not come up:\n" + log_path.read_text()
            time.sleep(0.3)
        yield base, data_dir
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_english_question_russian_card_and_export(server):
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        ctx = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server[0] + "/")
        page.wait_for_selector("#question textarea")

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
        assert not errors
        ctx.close()
        browser.close()
