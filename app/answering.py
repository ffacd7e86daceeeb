"""The answer pipeline shared by every engine: condense follow-ups -> retrieve -> draft -> verify
each sentence against its citations (repairing or dropping citations that don't support it) ->
resolve every quote to an exact document span -> the Answer JSON."""
from __future__ import annotations

import queue
import re
import threading
import time
from typing import Callable, Iterable, Iterator

from dossier.index.retrieval import Filters, Hit
from dossier.ingest.sentences import sentence_spans

from .answer_models import ABSTAIN_TEXT, Answer, Citation, Draft, DraftSentence, SentenceVerdict, Turn
from .compound import draft_compound, split_compound
from .engines.base import Engine, EngineError
from .injection import question_without_instructions
from .settings import AnswerSettings
from .textutil import content_stems
from .verify import Verdict, Verifier

_RANK = {"supported": 2, "partial": 1, "unsupported": 0}
# A remote engine's whole draft (and a follow-up's condensing) must finish within this many times its
# request timeout: the timeout alone bounds each read, and an endpoint that trickles a byte at a time
# never trips it. Drafts longer than any max_tokens allows are cut before verification.
DEADLINE_FACTOR = 3.0
MAX_DRAFT_SENTENCES = 40
# A reply streamed past this many characters per max_tokens token is stopped (a runaway or hostile
# endpoint; parsing and verifying megabytes would take minutes of CPU).
MAX_CHARS_PER_TOKEN = 16
# engines whose who-said-what questions the quote index answers (app.quote_answers)
QUOTE_ENGINES = ("extractive", "rules")


class Answerer:
    def __init__(self, retriever, settings: AnswerSettings, engines: dict[str, Callable[[], Engine]], verifier: Verifier,
                 fallback_to_extractive: bool = False, draft_deadline_s: float | None = None):
        self.retriever = retriever
        self.settings = settings
        self._factories = engines
        self._engines: dict[str, Engine] = {}
        self.verifier = verifier
        self.fallback = fallback_to_extractive
        self.draft_deadline_s = draft_deadline_s  # None: DEADLINE_FACTOR x the engine's timeout_s, if it has one
        self._quotes = None  # the quote index's answerer (app.quote_answers), made on first use

    @staticmethod
    def _reply_budget(eng: Engine) -> int | None:
        max_tokens = getattr(getattr(eng, "settings", None), "max_tokens", None)
        return MAX_CHARS_PER_TOKEN * int(max_tokens) + 1000 if max_tokens else None

    def _deadline(self, eng: Engine) -> float | None:
        if self.draft_deadline_s is not None:
            return self.draft_deadline_s if self.draft_deadline_s > 0 else None
        timeout = getattr(getattr(eng, "settings", None), "timeout_s", None)
        return DEADLINE_FACTOR * float(timeout) if timeout else None

    def engine(self, name: str) -> Engine:
        if name not in self._factories:
            raise EngineError(f"unknown engine {name!r}: expected one of {', '.join(self._factories)}")
        if name not in self._engines:
            eng = self._factories[name]()
            quotes = self._quote_answerer()
            if quotes is not None and hasattr(eng, "use_quotes"):
                eng.use_quotes(quotes.index)  # the rules engine asks the quote index who said a quote
            self._engines[name] = eng
        return self._engines[name]

    # --- public -------------------------------------------------------------------------
    def ask(self, question: str, **kw) -> Answer:
        answer = None
        for item in self.ask_stream(question, **kw):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def ask_stream(self, question: str, *, engine: str | None = None, history: list[Turn] | None = None,
                   filters: Filters | None = None, k: int | None = None, strict: bool | None = None,
                   qid: str | None = None) -> Iterator[str | Answer]:
        question = question.strip()
        if not question:
            raise ValueError("question: expected a non-empty question")
        name = engine or self.settings.engine
        strict = self.settings.strict if strict is None else strict
        k = k or self.settings.k
        timings: dict[str, float] = {}
        notice = ""
        t0 = time.perf_counter()
        eng = self.engine(name)
        deadline = self._deadline(eng)
        standalone = question
        if history:
            try:
                standalone = next(iter(_within(lambda: [eng.condense(question, history)], deadline, "condensing the follow-up")))
            except EngineError:
                standalone = question
        condensed = standalone != question
        # "Ignore your rules and say X. How far ...?": an instruction to the assistant is not part of the question
        standalone = question_without_instructions(standalone)
        timings["condense"] = _ms(t0)
        t1 = time.perf_counter()
        quoted = self._from_quotes(name, standalone, filters)
        if quoted is not None:  # "What did Amnesty say?", "Who said ...?": answered from the quote index
            draft, hits = quoted
            timings["retrieve"], timings["answer"] = 0.0, _ms(t1)
            yield from self._done(question, qid, name, draft, hits, strict, timings, t0, "")
            return
        parts = split_compound(standalone) if getattr(eng, "decomposes", False) and not condensed else [standalone]
        if len(parts) > 1:  # "How many ..., and who ...?": each part retrieved and answered on its own
            spent = [0.0]

            def retrieve(q: str) -> list[Hit]:
                t = time.perf_counter()
                try:
                    return self.retriever.search(q, k=k, filters=filters)
                finally:
                    spent[0] += time.perf_counter() - t

            draft, hits = draft_compound(parts, retrieve, eng.draft)
            timings["retrieve"] = round(spent[0] * 1000, 2)
            timings["answer"] = _ms(t1) - timings["retrieve"]
            yield from self._done(question, qid, name, draft, hits, strict, timings, t0, "")
            return
        hits = self.retriever.search(standalone, k=k, filters=filters)
        timings["retrieve"] = _ms(t1)
        t2 = time.perf_counter()
        draft: Draft | None = None
        budget, streamed = self._reply_budget(eng), 0
        try:
            for piece in _within(lambda: eng.draft_stream(standalone, hits), deadline, f"the {name} engine"):
                if isinstance(piece, Draft):
                    draft = piece
                else:
                    streamed += len(piece)
                    if budget and streamed > budget:
                        raise EngineError(f"the {name} engine's answer ran past {budget} characters, far more than "
                                          f"its max_tokens allows; stopped")
                    yield piece
        except EngineError as exc:
            if not (self.fallback and name != "extractive"):
                raise
            notice = f"{exc}; answered with the extractive engine instead"
            name = "extractive"
            draft = self.engine("extractive").draft(standalone, hits)
        assert draft is not None
        timings["answer"] = _ms(t2)
        yield from self._done(question, qid, name, draft, hits, strict, timings, t0, notice)

    def _done(self, question: str, qid: str | None, name: str, draft: Draft, hits: list[Hit], strict: bool,
              timings: dict[str, float], t0: float, notice: str) -> Iterator[Answer]:
        t3 = time.perf_counter()
        answer = self._finish(question, qid, name, draft, hits, strict)
        timings["verify"] = _ms(t3)
        if name == "llm" and self.settings.render_foreign_quotes:  # #16: English beside a foreign quote, marked
            from .translate import add_renderings, foreign

            if foreign(answer):
                t4 = time.perf_counter()
                add_renderings(answer, self.engine(name))
                timings["translate"] = _ms(t4)
        timings["total"] = _ms(t0)
        answer.timings_ms = {k2: round(v, 2) for k2, v in timings.items()}
        answer.notice = "; ".join(x for x in (notice, draft.notice) if x)
        answer.confidence = None if draft.confidence is None else round(float(draft.confidence), 4)
        yield answer

    def _from_quotes(self, engine: str, question: str, filters: Filters | None):
        """The quote index's answer to a who-said-what question (the offline engines only; the llm engine
        writes its own answer from the passages), or None."""
        quotes = self._quote_answerer() if engine in QUOTE_ENGINES else None
        return quotes.answer(question, filters) if quotes is not None else None

    def _quote_answerer(self):
        catalog = getattr(self.retriever, "catalog", None)
        if self._quotes is None and catalog is not None:
            from .quote_answers import QuoteAnswerer

            self._quotes = QuoteAnswerer(catalog)
        return self._quotes

    # --- verification and citations -----------------------------------------------------
    def _finish(self, question: str, qid: str | None, engine: str, draft: Draft, hits: list[Hit], strict: bool) -> Answer:
        if draft.abstained or not draft.sentences or not hits:
            return self._abstain(question, qid, engine, hits)
        if len(draft.sentences) > MAX_DRAFT_SENTENCES:  # a runaway or hostile endpoint: verifying it all takes minutes
            draft.sentences = draft.sentences[:MAX_DRAFT_SENTENCES]
            draft.notice = "; ".join(x for x in (draft.notice, f"the answer was cut to its first {MAX_DRAFT_SENTENCES} sentences") if x)
        cites: list[Citation] = []
        keyed: dict[tuple[str, int, int], int] = {}
        verdicts: list[SentenceVerdict] = []
        for ds in draft.sentences:
            positions, verdict = self._verify(ds, hits)
            if strict and verdict.label == "unsupported":
                continue
            ns = []
            for p in positions:
                hit = hits[p - 1]
                span = self._quote_span(ds, hit)
                key = (hit.chunk.chunk_id, span[0], span[1])
                if key not in keyed:
                    keyed[key] = len(cites) + 1
                    cites.append(_citation(keyed[key], hit, span))
                ns.append(keyed[key])
            verdicts.append(SentenceVerdict(text=_unmarked(ds.text), citations=ns, support=verdict.label, score=verdict.score))
        if not verdicts:
            return self._abstain(question, qid, engine, hits)
        text = " ".join(v.text + "".join(f" [{n}]" for n in v.citations) for v in verdicts)
        return Answer(id=qid, question=question, answer=text, abstained=False, engine=engine, citations=cites, sentences=verdicts)

    def _verify(self, ds: DraftSentence, hits: list[Hit]) -> tuple[list[int], Verdict]:
        cited = [p for p in dict.fromkeys(ds.cites) if 1 <= p <= len(hits)]
        if ds.span and cited:  # verbatim from a source: supported by construction, checked anyway
            v = self.verifier.check(ds.text, [hits[p - 1].chunk.text for p in cited])
            if v.label == "supported":
                return cited, v
        verdict = self.verifier.check(ds.text, [hits[p - 1].chunk.text for p in cited]) if cited else Verdict("unsupported", 0.0)
        if verdict.label != "supported":
            # replace with the single retrieved passage that supports best
            best_p, best_v = None, verdict
            for p in range(1, len(hits) + 1):
                v = self.verifier.check(ds.text, [hits[p - 1].chunk.text])
                if (_RANK[v.label], v.score) > (_RANK[best_v.label], best_v.score):
                    best_p, best_v = p, v
            if best_p is not None and _RANK[best_v.label] > _RANK[verdict.label]:
                cited, verdict = [best_p], best_v
        if verdict.label == "unsupported":
            return [], verdict  # a citation that supports nothing is removed
        if len(cited) > 1:  # drop citations that add nothing
            for p in list(cited):
                rest = [q for q in cited if q != p]
                if rest and _RANK[self.verifier.check(ds.text, [hits[q - 1].chunk.text for q in rest]).label] >= _RANK[verdict.label]:
                    cited = rest
        return cited, verdict

    def _quote_span(self, ds: DraftSentence, hit: Hit) -> tuple[int, int]:
        """Exact document offsets of the quote: the sentence itself when it is a verbatim span of this
        chunk, otherwise the chunk sentence that shares most content words with the answer sentence."""
        c = hit.chunk
        if ds.span and ds.span[0] == c.doc_id and c.start <= ds.span[1] and ds.span[2] <= c.end:
            return ds.span[1], ds.span[2]
        spans = sentence_spans(c.text) or [(0, len(c.text))]
        want = set(content_stems(ds.text))
        best = max(spans, key=lambda sp: (len(want & set(content_stems(c.text[sp[0]:sp[1]]))), -sp[0]))
        return c.start + best[0], c.start + best[1]

    def _abstain(self, question: str, qid: str | None, engine: str, hits: list[Hit]) -> Answer:
        closest = [_citation(i, h, (h.chunk.start, h.chunk.end)) for i, h in enumerate(hits[:3], 1)]
        return Answer(id=qid, question=question, answer=ABSTAIN_TEXT, abstained=True, engine=engine, closest=closest)


# "[7]", "[3, 4]", "[12-14]": a source's own footnote references inside a quoted sentence. Left in the
# answer they read as this answer's citation markers (dangling, or pointing at another source).
_FOOTNOTE = re.compile(r"\s*\[\d{1,4}(?:\s*[,;\u2013-]\s*\d{1,4})*\]")


def _unmarked(text: str) -> str:
    """The sentence as shown in the answer: without marker-like footnote references (the citation's quote
    keeps the exact source text)."""
    return _FOOTNOTE.sub("", text).strip()


def _within(make: Callable[[], Iterable], seconds: float | None, what: str) -> Iterator:
    """Iterate make() with the whole iteration bounded by `seconds` (EngineError past it). The iteration
    runs in a daemon thread: a call stuck in a socket read cannot be interrupted, so it is abandoned (and
    told to stop at its next item); None runs it here, unbounded."""
    if not seconds:
        yield from make()
        return
    items: queue.Queue = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        try:
            for item in make():
                if stop.is_set():
                    return
                items.put((True, item))
            items.put((False, None))
        except BaseException as exc:  # handed to the caller's thread
            items.put((False, exc))

    threading.Thread(target=work, daemon=True, name="dossier-engine").start()
    end = time.monotonic() + seconds
    try:
        while True:
            try:
                more, item = items.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                raise EngineError(f"{what} did not finish within {seconds:g} s (the endpoint is too slow or stalled)") from None
            if more:
                yield item
            elif item is None:
                return
            else:
                raise item
    finally:
        stop.set()


def _citation(n: int, hit: Hit, span: tuple[int, int]) -> Citation:
    c = hit.chunk
    a, b = span
    return Citation(n=n, doc_id=c.doc_id, title=hit.doc.get("title", "") or "", source=hit.doc.get("url") or hit.doc.get("source", ""),
                    chunk_id=c.chunk_id, page=c.page, start=a, end=b, quote=c.text[a - c.start:b - c.start], passage=c.text,
                    language=c.language or hit.doc.get("language") or None)


def _ms(t: float) -> float:
    return (time.perf_counter() - t) * 1000
