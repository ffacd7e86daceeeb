"""Upload limits through the app's real HTTP stack (FastAPI app with the Gradio UI mounted, TestClient):
request body caps on Gradio's upload endpoint and on the API, the size limit per file, and per request
in the Library callback: file count, total size, URL count, duplicate names, names from the browser
that try to climb out of the upload folder. (Type, per-file size and name sanitizing of staged files:
tests/test_ui_callbacks.py.)"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import dossier.app.ui.library as L
from dossier.app.context import AppContext
from dossier.app.server import BodyLimit, create_app, upload_cap_bytes
from dossier.app.settings import DossierSettings, ServeSettings
from dossier.app.ui.services import UIServices

MB = 1024 * 1024


@pytest.fixture
def small_app(seed_index, monkeypatch):
    """The real app with small limits: 0.5 MB per file, 1 MB of files per request."""
    ctx = AppContext(DossierSettings(data_dir=seed_index.data_dir, serve=ServeSettings(max_upload_mb=0.5, max_request_mb=1.0)))
    ctx.index = seed_index.svc
    with TestClient(create_app(ctx)) as client:
        yield client


def _files(n: int, size: int, name: str = "notes.txt") -> list:
    return [("files", (name if n == 1 else f"{i}-{name}", b"a" * size, "text/plain")) for i in range(n)]


def test_upload_cap_is_the_request_quota_and_at_least_one_file():
    assert upload_cap_bytes(ServeSettings(max_upload_mb=50)) == 200 * MB + MB  # serve.max_request_mb, plus form slack
    assert upload_cap_bytes(ServeSettings(max_upload_mb=500)) == 500 * MB + MB  # never below one allowed file


def test_gradio_upload_over_the_request_cap_is_refused_413(small_app):
    r = small_app.post("/gradio_api/upload", files=_files(6, int(0.45 * MB)))  # 2.7 MB > 1 MB + 1 MB slack
    assert r.status_code == 413 and "over the 2 MB limit" in r.text
    ok = small_app.post("/gradio_api/upload", files=_files(2, int(0.45 * MB)))
    assert ok.status_code == 200, ok.text
    assert len(ok.json()) == 2


def test_gradio_upload_of_one_file_over_the_file_limit_is_refused(small_app):
    r = small_app.post("/gradio_api/upload", files=_files(1, int(0.6 * MB)))  # under the request cap, over 0.5 MB
    assert r.status_code == 413 and "maximum allowed size" in r.text


def test_chunked_body_over_the_cap_is_cut_off_while_streaming():
    seen = []

    async def echo(request):
        body = await request.body()
        seen.append(len(body))
        return PlainTextResponse(str(len(body)))

    inner = Starlette(routes=[Route("/gradio_api/upload", echo, methods=["POST"]), Route("/api/ask", echo, methods=["POST"])])
    client = TestClient(BodyLimit(inner, upload_bytes=1000, other_bytes=100))

    def chunks(n):  # no Content-Length: sent chunked
        for _ in range(n):
            yield b"x" * 50

    assert client.post("/gradio_api/upload", content=chunks(10)).text == "500"
    r = client.post("/gradio_api/upload", content=chunks(30))
    assert r.status_code == 413 and r.text == "request body over the 0.000953674 MB limit"
    assert client.post("/api/ask", content=chunks(3)).status_code == 413
    assert client.post("/api/ask", content=b"y" * 101).status_code == 413  # by Content-Length, unread
    assert seen == [500]


def test_api_body_and_history_are_capped(client_big_history):
    client = client_big_history
    huge = json.dumps({"question": "x", "pad": "y" * (17 * MB)})
    r = client.post("/api/ask", content=huge, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "over the 16 MB limit" in r.text
    turns = [{"question": "q", "answer": "a"}] * 51
    r = client.post("/api/ask", json={"question": "How far can the cameras detect people?", "history": turns})
    assert r.status_code == 422 and "history" in r.text
    r = client.post("/api/ask", json={"question": "How far?", "history": [{"question": "q", "answer": "a" * 20001}]})
    assert r.status_code == 422 and "answer" in r.text


@pytest.fixture(scope="module")
def client_big_history(seed_index):
    ctx = AppContext(DossierSettings(data_dir=seed_index.data_dir))
    ctx.index = seed_index.svc
    with TestClient(create_app(ctx, mount_ui=False)) as client:
        yield client


def test_upload_with_a_climbing_name_lands_in_the_upload_folder(small_app, tmp_path):
    r = small_app.post("/gradio_api/upload", files=[("files", ("../../../etc/cron.d/evil.txt", b"notes\n", "text/plain"))])
    assert r.status_code == 200, r.text
    [temp] = r.json()
    assert Path(temp).name == "evil.txt" and ".." not in Path(temp).parts
    staged = L.stage_uploads([temp], tmp_path / "uploads", max_mb=1)
    assert staged.paths == [str((tmp_path / "uploads" / "evil.txt").resolve())] and staged.errors == []
    for hostile in ("..", "../..", "..\\..\\boot.ini", "/etc/passwd.txt", "C:\\Windows\\win.ini.txt"):
        name = L.safe_filename(hostile)
        assert "/" not in name and "\\" not in name and not name.startswith(".")


def _write(folder: Path, names: list[str], size: int = 100) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for n in names:
        (folder / n).write_bytes(b"a" * size)
        out.append(str(folder / n))
    return out


def test_stage_uploads_per_request_quotas(tmp_path):
    up = tmp_path / "uploads"
    many = _write(tmp_path / "a", [f"f{i}.txt" for i in range(5)])
    staged = L.stage_uploads(many, up, max_mb=1, max_files=3)
    assert [Path(p).name for p in staged.paths] == ["f0.txt", "f1.txt", "f2.txt"]
    assert staged.errors == [("f3.txt", "not added: at most 3 files per request"),
                             ("f4.txt", "not added: at most 3 files per request")]
    big = _write(tmp_path / "b", ["b0.txt", "b1.txt", "b2.txt"], size=400_000)
    staged = L.stage_uploads(big, tmp_path / "up2", max_mb=1, max_total_mb=1)
    assert [Path(p).name for p in staged.paths] == ["b0.txt", "b1.txt"]
    assert staged.errors == [("b2.txt", "not added: the files of one request may total at most 1 MB")]
    assert sorted(p.name for p in (tmp_path / "up2").iterdir()) == ["b0.txt", "b1.txt"]
    same = _write(tmp_path / "c", ["x.txt"]) + _write(tmp_path / "d", ["x.txt"])
    staged = L.stage_uploads(same, tmp_path / "up3", max_mb=1)
    assert len(staged.paths) == 1 and staged.errors == [("x.txt", "not added: another file in this request is also named x.txt")]


def test_parse_urls_per_request_quota():
    text = "\n".join(f"https://example.org/{i}" for i in range(25)) + "\nhttps://example.org/0\n" + "z" * 5000
    urls, errors = L.parse_urls(text, max_urls=20)
    assert urls == [f"https://example.org/{i}" for i in range(20)]
    assert errors[:5] == [(f"https://example.org/{i}", "not added: at most 20 URLs per request") for i in range(20, 25)]
    assert errors[5] == ("z" * 200, "expected an http:// or https:// URL") and len(errors) == 6


def test_library_ingest_applies_the_quotas(tmp_path, make_service, monkeypatch):
    ctx = AppContext(DossierSettings(data_dir=tmp_path / "data", serve=ServeSettings(max_files_per_request=2, max_urls_per_request=2)))
    ctx.index = make_service(tmp_path / "data")
    folder = tmp_path / "in"
    folder.mkdir()
    files = []
    for i in range(3):
        (folder / f"n{i}.txt").write_text(f"Note {i}\n\nThe harbour counted {100 + i} boats.\n")
        files.append(str(folder / f"n{i}.txt"))
    # private addresses: refused by the URL guard before any connection, so nothing leaves the machine
    urls = "\n".join(f"http://10.0.0.{i}/doc" for i in range(3))
    report = L.ingest(UIServices(ctx), files, urls, {})
    assert report.startswith("**Done:** 2 ingested, 4 failed"), report
    assert "`n2.txt` — not added: at most 2 files per request" in report
    assert "`http://10.0.0.2/doc` — not added: at most 2 URLs per request" in report
    assert report.count("a private address") == 2
    assert sorted(p.name for p in (tmp_path / "data" / "uploads").iterdir()) == ["n0.txt", "n1.txt"]
