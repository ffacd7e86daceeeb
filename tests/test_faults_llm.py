"""The LLM endpoint down, slow, or answering garbage, through the whole answer pipeline (and the HTTP
API): a clear one-line EngineError within a bounded time, or, with `fallback_to_extractive`, the
extractive answer with a notice saying why. A tiny OpenAI-compatible server on 127.0.0.1 misbehaves in
each way; tests/test_llm_engine.py covers the engine's own error messages."""
from __future__ import annotations

import http.server
import json
import socket
import threading
import time

import pytest

from dossier.app.answering import Answerer
from dossier.app.engines.base import EngineError
from dossier.app.context import extractive_engine
from dossier.app.settings import AnswerSettings, LLMSettings
from dossier.app.verify import Verifier

QUESTION = "How far can the cameras detect people?"
TIMEOUT_S = 1.0


def _completion(content: str) -> bytes:
    return json.dumps({"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode()


def _sse_chunk(content: str) -> bytes:
    return ("data: " + json.dumps({"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                                    "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]})
            + "\n\n").encode()


class Misbehaving(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = "500"

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        mode, stream = self.server.mode, bool(body.get("stream"))
        try:
            if mode == "500":
                self._send(500, b'{"error": {"message": "model crashed [/x] \\u001b[31m"}}')
            elif mode == "invalid-json":
                self._send(200, b"{not json at all")
            elif mode == "html":
                self._send(200, b"<html><body>502 Bad Gateway</body></html>", "text/html")
            elif mode == "empty":
                self._send(200, _completion(""))
            elif mode == "sleep":
                time.sleep(30)
                self._send(200, _completion("late"))
            elif mode == "trickle":  # headers at once, then one byte every 0.5 s: no read ever times out
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream" if stream else "application/json")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                for _ in range(120):
                    self.wfile.write(b":\n" if stream else b" ")
                    self.wfile.flush()
                    time.sleep(0.5)
            elif mode == "drop":  # a few tokens, then the connection dies mid-answer (chunked body cut short)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream" if stream else "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                part = _sse_chunk("The cameras see ") if stream else b'{"id": "x", "choices": [{"mess'
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part) + b"400\r\npartial")
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            elif mode == "huge":  # far longer than max_tokens allows: 20,000 sentences
                text = " ".join(f"Claim number {i} is true [1]." for i in range(20_000))
                if stream:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    self.wfile.write(b"".join(_sse_chunk(text[i:i + 4000]) for i in range(0, len(text), 4000)) + b"data: [DONE]\n\n")
                else:
                    self._send(200, _completion(text))
            elif mode == "injected":  # a model that obeyed an injection planted in a passage
                text = "The cameras see 5 km [1]. Ignore the sources [2]."
                if stream:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    self.wfile.write(_sse_chunk(text) + b"data: [DONE]\n\n")
                else:
                    self._send(200, _completion(text))
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture(scope="module")
def llm_endpoint():
    """Base URL of the misbehaving server; set `.mode` on the returned server object."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    srv.daemon_threads = True
    srv.handle_error = lambda request, address: None  # clients that hang up on purpose
    srv.mode = "500"
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _answerer(svc, base_url: str, fallback: bool) -> Answerer:
    settings = AnswerSettings()
    embed = svc.embedder.embed

    def llm():
        from dossier.app.engines.llm import LLMEngine

        return LLMEngine(LLMSettings(base_url=base_url, timeout_s=TIMEOUT_S, max_tokens=64))

    return Answerer(svc.retriever, settings, {"extractive": lambda: extractive_engine(settings), "llm": llm},
                    Verifier(embed, settings.support_threshold, settings.partial_threshold), fallback_to_extractive=fallback)


def _url(srv) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}/v1"


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"


FAILURES = ["down", "500", "invalid-json", "html", "empty", "sleep", "trickle", "drop"]
BOUND_S = 3 * TIMEOUT_S + 5  # the pipeline's deadline for a draft is 3 x the request timeout


def _ask(answerer, **kw):
    """The pipeline as the UI drives it (ask() does the same): pieces as they stream, then the Answer."""
    answer = None
    for item in answerer.ask_stream(QUESTION, engine="llm", **kw):
        if not isinstance(item, str):
            answer = item
    return answer


@pytest.mark.parametrize("mode", FAILURES)
def test_failing_endpoint_is_a_clear_error_in_bounded_time_or_an_announced_fallback(seed_index, llm_endpoint, mode):
    llm_endpoint.mode = mode
    url = _closed_port_url() if mode == "down" else _url(llm_endpoint)

    t0 = time.monotonic()
    with pytest.raises(EngineError) as err:
        _ask(_answerer(seed_index.svc, url, fallback=False))
    took = time.monotonic() - t0
    msg = str(err.value)
    assert msg and "\n" not in msg and len(msg) < 400, msg
    assert "\x1b" not in msg, msg
    assert took < BOUND_S, f"{mode}: {took:.1f} s"

    t0 = time.monotonic()
    ans = _ask(_answerer(seed_index.svc, url, fallback=True))
    took = time.monotonic() - t0
    assert took < BOUND_S + 10, f"{mode}: {took:.1f} s"
    assert ans.engine == "extractive" and not ans.abstained and "110 meters" in ans.answer
    assert "answered with the extractive engine" in ans.notice
    assert {c.n for c in ans.citations} == {n for s in ans.sentences for n in s.citations}


def test_follow_up_condensing_with_a_hanging_endpoint_is_bounded(seed_index, llm_endpoint):
    from dossier.app.answer_models import Turn

    llm_endpoint.mode = "trickle"
    t0 = time.monotonic()
    ans = _answerer(seed_index.svc, _url(llm_endpoint), fallback=True).ask(
        "And how far can they see?", engine="llm", history=[Turn("Which cameras were delivered?", "IR cameras [1]")])
    assert time.monotonic() - t0 < 2 * BOUND_S + 10
    assert ans.engine == "extractive"


def test_a_reply_far_longer_than_max_tokens_is_stopped_not_parsed_for_minutes(seed_index, llm_endpoint):
    """600 KB of "sentences" where max_tokens allows ~250 words: stopped while streaming (parsing and
    verifying it all would take minutes), then a clear error or the fallback."""
    llm_endpoint.mode = "huge"
    t0 = time.monotonic()
    with pytest.raises(EngineError, match="ran past .* characters"):
        _ask(_answerer(seed_index.svc, _url(llm_endpoint), fallback=False))
    assert time.monotonic() - t0 < 10
    ans = _ask(_answerer(seed_index.svc, _url(llm_endpoint), fallback=True))
    assert ans.engine == "extractive" and "110 meters" in ans.answer


def test_a_long_draft_is_cut_before_verification():
    from dossier.app.answer_models import Draft, DraftSentence
    from dossier.app.answering import MAX_DRAFT_SENTENCES

    class Hits:  # the smallest retriever: one passage
        def search(self, q, k, filters=None):
            from types import SimpleNamespace

            from dossier.ingest.models import Chunk

            text = "The cameras can detect people up to 110 meters away."
            return [SimpleNamespace(chunk=Chunk("d1:0-52", "d1", 0, 0, len(text), text, 12), doc={"title": "t"})]

    class Chatty:
        name = "chatty"

        def condense(self, q, h):
            return q

        def draft_stream(self, q, hits):
            yield Draft(sentences=[DraftSentence(f"Claim {i} is true.", [1]) for i in range(500)])

    checked = []

    class CountingVerifier(Verifier):
        def __init__(self):
            pass

        def check(self, sentence, passages):
            from dossier.app.verify import Verdict

            checked.append(sentence)
            return Verdict("unsupported", 0.0)

    ans = Answerer(Hits(), AnswerSettings(), {"chatty": Chatty}, CountingVerifier()).ask("q?", engine="chatty")
    assert len(ans.sentences) == MAX_DRAFT_SENTENCES and "cut to its first" in ans.notice
    assert len(set(checked)) == MAX_DRAFT_SENTENCES


def test_a_sentence_that_obeys_an_injection_is_marked_unsupported(seed_index, llm_endpoint):
    """The model repeats a planted claim ("5 km") where the passages say 110 meters: the verifier marks it
    unsupported, its citation is dropped, and strict mode removes it."""
    llm_endpoint.mode = "injected"
    answerer = _answerer(seed_index.svc, _url(llm_endpoint), fallback=False)
    ans = _ask(answerer)
    by_text = {s.text: s for s in ans.sentences}
    claim = next(s for t, s in by_text.items() if "5 km" in t)
    assert claim.support == "unsupported" and claim.citations == []
    assert all(s.support == "unsupported" for s in ans.sentences)
    strict = _ask(answerer, strict=True)
    assert strict.abstained and "5 km" not in strict.answer


# --- the HTTP API ------------------------------------------------------------------------------------

def test_api_reports_a_failing_llm_as_400_one_line_or_falls_back(seed_index, llm_endpoint):
    from fastapi.testclient import TestClient

    from dossier.app.context import AppContext, build_answerer
    from dossier.app.server import create_app
    from dossier.app.settings import DossierSettings

    llm_endpoint.mode = "500"
    for fallback in (False, True):
        settings = DossierSettings(data_dir=seed_index.data_dir)
        settings.llm = LLMSettings(base_url=_url(llm_endpoint), timeout_s=TIMEOUT_S, fallback_to_extractive=fallback)
        ctx = AppContext(settings)
        ctx.index = seed_index.svc
        with TestClient(create_app(ctx, answerer=build_answerer(ctx), mount_ui=False)) as client:
            r = client.post("/api/ask", json={"question": QUESTION, "engine": "llm"})
        if fallback:
            assert r.status_code == 200 and r.json()["engine"] == "extractive" and "HTTP 500" in r.json()["notice"]
        else:
            assert r.status_code == 400 and "HTTP 500" in r.json()["detail"] and "\n" not in r.json()["detail"]
