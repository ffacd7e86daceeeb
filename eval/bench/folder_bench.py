"""`bench folder`: the ingest a newsroom meets, through the real `dossier ingest` command in a child process.

Three runs, each into a fresh data dir, each timed and its peak memory (RSS of the child) sampled:

- mixed: 16 mixed and hostile files (the test fixtures: PDF, DOCX, HTML, Markdown, Latin-1 and UTF-16
  text, and the broken ones: binary, empty, encrypted, truncated, a zip bomb, a scan, an image...) plus
  one 10 MB file that is a single line of repeated text. Every input must get its line; the valid
  ones must be searchable afterwards.
- pdf: one 2,000-page PDF made here with fpdf2 (each page a few distinct sentences).
- edit: a 500-chunk document ingested, one paragraph edited, ingested again: chunks re-embedded.

The figures go in the README; targets: mixed <= 5 minutes, edit <= 5% re-embedded.
"""
from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
GOOD = ("two-pages.pdf", "report.docx", "nav-page.html", "notes.md")
BROKEN = ("binary.txt", "blank.txt", "empty.txt", "bomb.docx", "encrypted.pdf", "fake.pdf", "truncated.pdf",
          "not-a-zip.docx", "scanned.pdf", "scripts-only.html", "image.png", "sheet.xlsx")
_WORDS = ("camera border patrol embargo supplier contract tender ministry vehicle drone thermal fence report "
          "minister customs warehouse invoice shipment licence export").split()


def sentences(n: int, seed: int, tag: str = "") -> list[str]:
    rng = random.Random(seed)
    return [f"{' '.join(rng.choice(_WORDS) for _ in range(rng.randint(8, 20))).capitalize()} {tag}{i}." for i in range(n)]


def make_mixed(folder: Path, line_mb: float = 10.0) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name in GOOD:
        shutil.copy(FIXTURES / name, folder / name)
    for name in BROKEN:
        shutil.copy(FIXTURES / "broken" / name, folder / name)
    line = "The border service received another shipment of thermal cameras and fences from the supplier. "
    with open(folder / "z-one-line.txt", "w", encoding="utf-8") as f:
        f.write(line * int(line_mb * 1024 * 1024 / len(line)))
    return sorted(p.name for p in folder.iterdir())


def make_pdf(path: Path, pages: int = 2000) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for p in range(pages):
        pdf.add_page()
        pdf.multi_cell(0, 6, " ".join(sentences(6, seed=p, tag=f"page {p} item ")))
    pdf.output(str(path))


def ingest(data: Path, inputs: list[str], *, env: dict[str, str] | None = None) -> dict:
    """`dossier ingest --json` in a child: wall time, peak RSS (sampled every 50 ms), its JSON lines."""
    import os

    import psutil

    child_env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    child_env.update({"DOSSIER_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"}, **(env or {}))
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "dossier", "ingest", *inputs, "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=child_env, cwd=REPO)
    peak = [0]

    def sample() -> None:
        p = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                peak[0] = max(peak[0], p.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    first_line_s: list[float] = []
    lines = []
    for raw in proc.stdout:  # each line as it arrives
        first_line_s or first_line_s.append(time.perf_counter() - t)
        lines.append(json.loads(raw))
    proc.wait()
    th.join()
    return {"exit": proc.returncode, "seconds": round(time.perf_counter() - t, 2), "first_line_s": round(first_line_s[0], 2) if first_line_s else None,
            "peak_rss_mb": round(peak[0] / 1048576, 1), "results": [x for x in lines if x.get("type") == "result"],
            "summary": next((x for x in lines if x.get("type") == "summary"), {}), "stderr_tail": proc.stderr.read()[-500:]}


def run_folder_bench(work: Path, log: Callable[[str], None] = print, pdf_pages: int = 2000) -> dict:
    work = Path(work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    out: dict = {}
    log("folder: 16 mixed and hostile files plus a 10 MB single-line file")
    names = make_mixed(work / "mixed")
    r = ingest(work / "data-mixed", [str(work / "mixed")])
    lines = {Path(x["source"]).name: x["status"] for x in r["results"]}
    out["mixed"] = {k: r[k] for k in ("exit", "seconds", "first_line_s", "peak_rss_mb")} | {
        "inputs": len(names), "lines": len(lines), "every_input_has_a_line": set(lines) == set(names),
        "statuses": lines, "chunks": r["summary"].get("chunks"), "embedded": r["summary"].get("embedded"),
        "reused": r["summary"].get("reused"), "target_s": 300}
    log(f"folder: a {pdf_pages}-page PDF")
    make_pdf(work / "long.pdf", pdf_pages)
    r = ingest(work / "data-pdf", [str(work / "long.pdf")])
    out["pdf"] = {k: r[k] for k in ("exit", "seconds", "peak_rss_mb")} | {
        "pages": pdf_pages, "mb": round((work / "long.pdf").stat().st_size / 1048576, 2),
        "status": r["results"][0]["status"] if r["results"] else None, "chunks": r["summary"].get("chunks")}
    out["edit"] = _edit(work, log)
    return out


def _edit(work: Path, log: Callable[[str], None]) -> dict:
    log("folder: a 500-chunk document, one paragraph edited, ingested again")
    paras = [" ".join(sentences(6, seed=p, tag=f"para {p} item ")) for p in range(820)]
    doc = work / "long-report.txt"
    doc.write_text("\n\n".join(paras), encoding="utf-8")
    data = work / "data-edit"
    first = ingest(data, [str(doc)])
    paras[410] += " One sentence added to the middle paragraph, about a shipment of fences to the southern border."
    doc.write_text("\n\n".join(paras), encoding="utf-8")
    again = ingest(data, [str(doc)])
    n = again["summary"].get("chunks") or 0
    emb = again["summary"].get("embedded") or 0
    return {"chunks_before": first["summary"].get("chunks"), "chunks_after": n, "re_embedded": emb,
            "reused": again["summary"].get("reused"), "share_re_embedded": round(emb / n, 4) if n else None,
            "seconds_first": first["seconds"], "seconds_edit": again["seconds"], "target_share": 0.05}
