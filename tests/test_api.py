"""The JSON API beside the UI (FastAPI TestClient over the real app: real index of the seed article,
real embedder, real extractive engine), its HTTP Basic auth, and `dossier serve`'s refusal to bind a
non-loopback address without authentication."""
from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from dossier.app.cli_serve import is_loopback, read_auth_file, resolve_auth
from dossier.app.cli import UserError
from dossier.app.context import AppContext
from dossier.app.settings import DossierSettings


def _ctx(seed_index) -> AppContext:
    settings = DossierSettings(data_dir=seed_index.data_dir)
    ctx = AppContext(settings)
    ctx.index = seed_index.svc  # share the session's loaded index (cached_property slot)
    return ctx


@pytest.fixture(scope="module")
def client(seed_index):
    from dossier.app.server import create_app

    with TestClient(create_app(_ctx(seed_index))) as c:
        yield c


@pytest.fixture(scope="module")
def locked_client(seed_index):
    from dossier.app.server import create_app

    with TestClient(create_app(_ctx(seed_index), auth=[("ann", "s3cret:pw"), ("bob", "hunter2")])) as c:
        yield c


def _basic(user: str, pw: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


def test_sources_lists_the_seed_document(client, seed_index):
    r = client.get("/api/sources")
    assert r.status_code == 200
    docs = r.json()["documents"]
    assert [d["doc_id"] for d in docs] == [seed_index.doc_id]
    assert docs[0]["title"] == "Equipping a Dictator" and docs[0]["publisher"].startswith("OCCRP")
    assert docs[0]["n_chunks"] > 0 and "text" not in docs[0]
    assert client.get("/api/health").json()["documents"] == 1


def test_ask_returns_the_answer_json_with_exact_quotes(client, seed_index):
    r = client.post("/api/ask", json={"question": "How far can the cameras detect people?", "id": "q1"})
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["id"] == "q1" and a["abstained"] is False and a["engine"] == "extractive"
    assert "110 meters" in a["answer"]
    assert set(a) >= {"question", "answer", "citations", "sentences", "timings_ms"}
    text = seed_index.svc.catalog.doc_text(seed_index.doc_id)
    for c in a["citations"]:
        assert text[c["start"]:c["end"]] == c["quote"]
        assert c["quote"] in c["passage"]
    assert "[1]" in a["answer"] and a["sentences"][0]["citations"] == [1]


def test_ask_abstains_with_closest_passages(client):
    a = client.post("/api/ask", json={"question": "What is the population of Belarus?"}).json()
    assert a["abstained"] is True and a["answer"] == "The sources don't answer this."
    assert a["citations"] == [] and a["closest"]


def test_ask_with_filters_history_and_options(client):
    none = client.post("/api/ask", json={"question": "How far can the cameras detect people?",
                                          "filters": {"kinds": ["legal"]}}).json()
    assert none["abstained"] is True  # no legal documents: nothing retrieved
    some = client.post("/api/ask", json={"question": "How far can the cameras detect people?", "k": 3, "strict": True,
                                          "filters": {"kinds": ["article"], "publishers": ["occrp"], "date_from": "2019",
                                                      "date_to": "2019-12"}}).json()
    assert "110 meters" in some["answer"]
    follow = client.post("/api/ask", json={
        "question": "And who supplied them?",
        "history": [{"question": "How far can the cameras detect people?", "answer": some["answer"]}]})
    assert follow.status_code == 200 and follow.json()["question"] == "And who supplied them?"


@pytest.mark.parametrize("body, status, words", [
    ({"question": ""}, 422, "question"),
    ({"question": "   "}, 422, "non-empty"),
    ({}, 422, "question"),
    ({"question": "x", "k": 0}, 422, "k"),
    ({"question": "x", "filters": {"date_from": "last week"}}, 422, "date_from"),
    ({"question": "x", "filters": {"kind": ["legal"]}}, 422, "kind"),
    ({"question": "x", "engine": "nope"}, 400, "unknown engine"),
])
def test_ask_rejects_bad_requests_with_a_clear_message(client, body, status, words):
    r = client.post("/api/ask", json=body)
    assert r.status_code == status, r.text
    assert words in r.text


def test_api_requires_basic_auth_when_auth_is_set(locked_client):
    assert locked_client.get("/api/sources").status_code == 401
    assert locked_client.get("/api/sources").headers["www-authenticate"].startswith("Basic")
    assert locked_client.get("/api/sources", headers=_basic("ann", "wrong")).status_code == 401
    assert locked_client.get("/api/sources", headers=_basic("bob", "s3cret:pw")).status_code == 401
    assert locked_client.get("/api/sources", headers=_basic("ann", "s3cret:pw")).status_code == 200
    assert locked_client.post("/api/ask", json={"question": "How far can the cameras detect people?"}).status_code == 401
    r = locked_client.post("/api/ask", json={"question": "How far can the cameras detect people?"}, headers=_basic("bob", "hunter2"))
    assert r.status_code == 200 and "110 meters" in r.json()["answer"]


def test_ui_requires_login_when_auth_is_set(locked_client, client):
    # the Gradio app's config (what the page needs to render anything) is refused without a login
    assert client.get("/config").status_code == 200
    assert locked_client.get("/config").status_code == 401
    login = locked_client.post("/login", data={"username": "ann", "password": "s3cret:pw"})
    assert login.status_code == 200
    assert locked_client.get("/config").status_code == 200


# --- dossier serve: binding and auth -------------------------------------------------------------
@pytest.mark.parametrize("host, loop", [("127.0.0.1", True), ("127.8.9.1", True), ("localhost", True), ("::1", True),
                                        ("[::1]", True), ("0.0.0.0", False), ("::", False), ("192.168.1.5", False),
                                        ("example.org", False)])
def test_is_loopback(host, loop):
    assert is_loopback(host) is loop


def test_non_loopback_bind_needs_auth_or_an_explicit_opt_out(tmp_path):
    with pytest.raises(UserError, match="refusing to serve on 0.0.0.0 without authentication"):
        resolve_auth(None, None, "0.0.0.0", False)
    assert resolve_auth(None, None, "0.0.0.0", True) == []
    assert resolve_auth(None, None, "127.0.0.1", False) == []
    assert resolve_auth("ann:pa:ss", None, "0.0.0.0", False) == [("ann", "pa:ss")]
    f = tmp_path / "users"
    f.write_text("# newsroom\nann:one\n\nbob:two\n")
    assert resolve_auth(None, f, "0.0.0.0", False) == [("ann", "one"), ("bob", "two")]
    for bad in ("ann", ":pw", "ann:"):
        with pytest.raises(UserError, match="expected USER:PASSWORD"):
            resolve_auth(bad, None, "127.0.0.1", False)
    (tmp_path / "empty").write_text("# nobody\n")
    with pytest.raises(UserError, match="at least one"):
        read_auth_file(tmp_path / "empty")
    with pytest.raises(UserError, match="no such file"):
        read_auth_file(tmp_path / "missing")


def test_serve_command_refuses_0_0_0_0_without_auth(run_cli, tmp_path):
    res = run_cli("--data-dir", tmp_path / "data", "serve", "--host", "0.0.0.0", "--port", "7999")
    assert res.exit_code == 2
    assert "refusing to serve on 0.0.0.0 without authentication" in res.stderr
    assert "--auth" in res.stderr and "Traceback" not in res.stderr
    bad = run_cli("--data-dir", tmp_path / "data", "serve", "--auth", "nocolon")
    assert bad.exit_code == 2 and "expected USER:PASSWORD" in bad.stderr
    assert "nocolon" not in bad.stderr.replace("no***", "")  # the credential is not echoed back
