"""The rule-based extractive engine (`--engine rules`): the default engine before the learned one
(app/engines/extractive.py), kept for comparison in the SQuAD benchmark and the ablation; answers with
source sentences, verbatim.

It scores every sentence of the retrieved passages against the question (embedding similarity plus
weighted coverage of the question's key terms), keeps only sentences that contain a fact of the
asked-for type, and abstains when no sentence both fits and is relevant enough.
"""
from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from dossier.index.retrieval import Hit
from dossier.ingest.sentences import sentence_spans

from ..answer_models import Draft, DraftSentence, Turn
from ..embed_cache import EmbedFn, EmbeddingCache
from ..lexicon import ORG as ORG_NAME_WORDS
from ..lexicon import SPEECH
from ..question import (COMPANY, DATE, DESCRIBE, EXPLAIN, GENERIC, LIST, NAME, NUMBER, ORG, PERSON, PERSON_NAME, PLACE, QuestionInfo,
                        analyze, is_followup, split_context, with_context)
from ..textutil import content_stems, fold, names, numbers
from .candidates import Emitter, candidate_sentences, passage_for, title_of


_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_MONTH = re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b")
_COMPANY_MARK = re.compile(r"\b(Ltd|LLC|LLP|Inc|GmbH|KG|A/S|AS|ASA|AB|OOO|OAO|ZAO|JSC|PJSC|PLC|plc|Corp|Corporation|Company|Group|Holding|"
                           r"S\.A\.|SA|SAS|SARL|SpA|Srl|SE|AG|BV|NV|Oy|Oyj|Pty|Co)\b")
_ORG_WORDS = ORG_NAME_WORDS
_DEMONYMS = frozenset("""Russian Russians Belarusian Belarusians Ukrainian Ukrainians European Europeans Polish Danish British
American Americans German French Chinese Afghan Indian Chechen Chechens Egyptian Libyan Turkish Saudi Soviet Western Eastern
Northern Southern Nordic Scandinavian Swedish Finnish Dutch Italian Spanish Lithuanian Latvian Estonian Moldovan""".split())
_MONEY = re.compile(r"(€|\$|£|\b(euros?|eur|dollars?|usd|pounds?|roubles?|rubles?)\b)", re.I)
_DISTANCE = re.compile(r"\b\d[\d,.]*\s*(-\s*)?(meters?|metres?|m|km|kilometers?|kilometres?|miles?|feet|ft)\b", re.I)
_DURATION = re.compile(r"\b(\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|a|several|many)\s+(years?|months?|weeks?|days?|decades?|hours?)\b|"
                       r"\b(quarter|half)[ -](a )?century\b|\bdecades?\b", re.I)
_SPEECH = SPEECH
_ROLE = re.compile(r"\b(advis[eo]r|professor|spokes(?:man|woman|person)|head|director|officer|expert|analyst|researcher|"
                   r"rapporteur|minister|president|chair|member|journalist|reporter|lawyer|consultant|founder|manager|editor|secretary)\b", re.I)


@dataclass
class _Cand:
    passage: int  # 1-based
    doc_id: str
    start: int
    end: int
    text: str
    stems: set
    rel: float = 0.0
    sem: float = 0.0
    lex: float = 0.0
    ctx: str = ""  # sentence with its neighbours (for type and key-term checks)
    prev: tuple[int, int, str] | None = None  # previous sentence in the chunk: (start, end, text)
    attr: tuple[int, int, str] | None = None  # for a quote: the earlier sentence naming its speaker
    section: str = ""  # the chunk's section heading ("Article 2", "Annex I", "Findings")
    title: str = ""  # the document's title: what every sentence in it is about
    own: float = 0.0  # weighted key-term coverage of the sentence alone
    near: float = 0.0  # weighted coverage of key terms found only in the neighbouring sentences
    bigram: float = 0.0  # share of the question's consecutive key-term pairs standing together here


class RulesEngine:
    name = "rules"
    decomposes = True  # compound questions are split and each part answered (app.compound)

    def __init__(self, embed: EmbedFn, *, max_sentences: int = 3, max_sentences_why: int = 5, min_relevance: float = 0.35,
                 min_own: float = 0.0, doc_text: Callable[[str], str | None] | None = None, max_embedded: int = 16):
        self.embed = embed
        self.max_sentences = max_sentences
        self.max_sentences_why = max_sentences_why
        self.min_relevance = min_relevance
        self._cache = EmbeddingCache(embed, max_items=50000)
        self.min_own = min_own
        self.doc_text = doc_text
        self.max_embedded = max_embedded
        self._call = threading.local()  # per-question state: engines are shared by concurrent sessions
        self.quotes = None  # who said what (dossier.index.quotes.QuoteIndex), handed over by the answer pipeline

    def use_quotes(self, quotes) -> None:
        """The quote index the engine asks for a quote's speaker and its continuations."""
        self.quotes = quotes

    @property
    def _followup(self) -> bool:
        return getattr(self._call, "followup", False)

    def _doc(self, doc_id: str) -> str | None:
        """Full text of a document (cached for the question being answered)."""
        docs = self._call.docs  # set up by draft() for each question
        if doc_id not in docs:
            docs[doc_id] = self.doc_text(doc_id) if self.doc_text else None
        return docs[doc_id]

    # --- Engine protocol -----------------------------------------------------------------
    def condense(self, question: str, history: list[Turn]) -> str:
        """Follow-ups borrow the previous question's terms: "And who supplied them?" after
        "What equipment did the EU fund?" searches for both."""
        if not history or not is_followup(question):
            return question
        return with_context(question, history[-1].question)

    def draft_stream(self, question: str, passages: list[Hit]) -> Iterator[str | Draft]:
        d = self.draft(question, passages)
        yield d

    def draft(self, question: str, passages: list[Hit]) -> Draft:
        # the type of answer comes from what is asked now; key terms also from the context in parentheses
        asked = split_context(question)[0]
        info = analyze(asked)
        context_terms = [s for s in content_stems(question) if s not in info.key_stems] if asked != question else []
        self._call.followup = asked != question
        self._call.docs, self._call.sections = {}, {}
        cands = self._candidates(passages)
        if not cands:
            return Draft(abstained=True, reason="no passages were retrieved")
        aliases = self._with_speakers_and_aliases(info, cands)
        self._score(info, question, context_terms, cands)
        proper = _proper_tokens(cands)
        unfocused = bool(info.focus) and not any(info.focus in c.stems for c in cands)
        # what a passage is about includes its document's title ("... 2023/118", "the Nordland Border Guard Service")
        # ... and its head (a title line, an act's name and number), which a file without metadata keeps in its text
        heads = {i: f"{title_of(h)}\n{(self._doc(h.chunk.doc_id) or '')[:300]}" for i, h in enumerate(passages, 1)}
        ptexts = {i: f"{h.chunk.text}\n{heads[i]}" for i, h in enumerate(passages, 1)}
        refusal = self._premise_refusal(info, cands)
        if refusal:
            return refusal
        valid = self._fitting(info, cands, proper, ptexts, aliases)
        refusal = self._rank(info, question, cands, valid, unfocused)
        if refusal:
            return refusal
        valid = self._narrow(info, valid, heads, proper)
        chosen = self._select(info, valid)
        return Draft(sentences=self._emit(info, chosen, proper, passages))

    # --- the steps of draft() ------------------------------------------------------------
    def _with_speakers_and_aliases(self, info: QuestionInfo, cands: list[_Cand]) -> list[tuple[re.Pattern, str]]:
        """A quote's speaker joins its context; a sentence writing a name the question spells otherwise
        ("EU" for "European Union", and the other way round) gets that name's stems. Returns the aliases."""
        for c in cands:  # a quote's speaker, named a sentence or three before, is part of its context
            c.attr = self._attribution(c)
            if c.attr:
                c.ctx = f"{c.attr[2]} {c.ctx}"
        aliases = _aliases(info.names)  # "European Union" asked, "EU" written (and the other way round)
        for c in cands:
            for short, long_ in aliases:
                if short.search(c.text):
                    c.stems |= set(content_stems(long_))
            for n in names(c.text):
                acr = _acronym(n)
                if acr and any(acr == q for q in info.names):
                    c.stems |= set(content_stems(acr))
        return aliases

    def _premise_refusal(self, info: QuestionInfo, cands: list[_Cand]) -> Draft | None:
        """Why/when questions (not follow-ups) whose premise the passages never state: an abstention."""
        if self._presupposes(info) and not self._followup:
            absent = [t for t in info.key_stems if not numbers(t) and not any(t in c.stems for c in cands)]
            if absent:  # "Why did X lift ...": the passages never say that X lifted anything
                return Draft(abstained=True, reason=f"the passages never mention {', '.join(absent)!r}: the question's premise is not in the sources")
            unstated = self._premise_unstated(info, cands)
            if unstated:
                return Draft(abstained=True, reason=f"no passage says {unstated}: the question's premise is not in the sources")
        return None

    def _fitting(self, info: QuestionInfo, cands: list[_Cand], proper: set[str], ptexts: dict[int, str],
                 aliases: list[tuple[re.Pattern, str]]) -> list[_Cand]:
        """The sentences that can answer: of the asked-for type, and from a passage naming what the question names."""
        valid = [c for c in cands if self._fits(info, c, proper, ptexts[c.passage])]
        if self._presupposes(info):
            qn = {n for n in info.names if not (" " not in n and info.text.startswith(n)) and n not in _DEMONYMS}
            valid = [c for c in valid if all(fold(n) in fold(c.ctx) for n in qn)]
        wanted = self._distinctive_names(info, cands)
        if wanted:
            texts = {i: fold(t) for i, t in ptexts.items()}

            for i, t in ptexts.items():  # an alias in the passage names what the question names
                texts[i] += " " + " ".join(fold(long_) for short, long_ in aliases if short.search(t))

            def named(c: _Cand) -> bool:
                scope = texts[c.passage] + (" " + fold(c.attr[2]) if c.attr else "")
                return all(sum(tok in scope for tok in toks) * 3 >= 2 * len(toks) for toks in wanted)

            valid = [c for c in valid if named(c)]
        return valid

    def _rank(self, info: QuestionInfo, question: str, cands: list[_Cand], valid: list[_Cand], unfocused: bool) -> Draft | None:
        """Sorts `valid` in place, most relevant first (meaning, key terms, type preferences); an abstention
        when nothing is relevant enough."""
        # the embedder runs once per sentence: the most lexically relevant MAX_EMBEDDED are compared by meaning,
        # which bounds an answer's time (the rest keep their lexical score and rank below)
        valid.sort(key=lambda c: -c.rel)
        self._semantic(question, valid[:self.max_embedded])
        if unfocused and max((c.sem for c in valid), default=0.0) < 0.7:
            # "What penalties does it set?" and no passage speaks of penalties (a close paraphrase counts:
            # "which punishment" is answered by "the death penalty")
            return Draft(abstained=True, reason=f"the passages never mention {info.focus!r}")
        valid.sort(key=lambda c: -c.rel)
        if not valid or valid[0].rel < self.min_relevance:
            best = max(cands, key=lambda c: c.rel)
            why = f"no passage sentence answers a {info.qtype} question" if not valid else "no sufficiently relevant passage"
            return Draft(abstained=True, reason=f"{why} (best relevance {best.rel:.2f})")
        self._boost(info, valid)
        valid.sort(key=lambda c: -c.rel)
        return None

    def _narrow(self, info: QuestionInfo, valid: list[_Cand], heads: dict[int, str], proper: set[str]) -> list[_Cand]:
        """The sentences about exactly what the question points at (an identifier, a section, the action
        asked about), when there are such sentences."""
        # "tender NBGS-2022-11": a sentence about that very tender, when there is one (identifiers that name a
        # retrieved document, "Decision 2023/118", are that document's and need not be repeated)
        all_heads = " ".join(heads.values()).lower()
        own_ids = [i for i in info.identifiers if i.lower() not in all_heads]
        if own_ids:
            exact = [c for c in valid if all(i.lower() in c.ctx.lower() for i in own_ids)]
            if exact:
                valid = exact
        if info.section_refs:  # "What does Article 2 prohibit?": the sentences under that heading
            under = [c for c in valid if fold(c.section) in {fold(r) for r in info.section_refs}]
            if under:
                valid = under
        if info.section_unit:  # "Which article prohibits financing?": a sentence under an "Article n" heading
            inside = [c for c in valid if fold(c.section).startswith(info.section_unit)]
            if inside and inside[0].rel >= 0.5 * valid[0].rel:
                valid = inside
        if info.predicate:  # "Who led the audit?": a sentence that says who *led* it, if one is nearly as relevant
            others = set(info.key_stems) - {info.predicate}
            acting = [c for c in valid if info.predicate in c.stems and (others & c.stems or not others)
                      and (info.qtype != PERSON or self._person_names(info, c.text, proper))]
            # ... and that is as much about the question's terms (with its neighbours) as the best sentence
            if acting and acting[0].rel >= 0.5 * valid[0].rel and acting[0].own + acting[0].near >= 0.9 * (valid[0].own + valid[0].near):
                valid = acting
        return valid

    def _emit(self, info: QuestionInfo, chosen: list[_Cand], proper: set[str], passages: list[Hit]) -> list[DraftSentence]:
        """The answer's sentences: each chosen one, with what it needs to be understood (its speaker, the
        heading it stands under, the rest of a quote)."""
        emitter = Emitter()
        emit = emitter.emit

        qtokens = {fold(t) for n in info.names for t in n.split() if len(t) > 2}
        for c in chosen:
            if info.qtype == PERSON and not self._person_names(info, c.text, proper):
                sp = self._speaker(c, info, proper)
                if sp:
                    emit(c.doc_id, sp[0], sp[1], sp[2], passage_for(c.doc_id, sp[0], sp[1], passages) or c.passage)
            elif c.attr and qtokens & {fold(t) for t in re.findall(r"[\w’'-]+", c.attr[2])}:
                # "..., he added." answers a question about the person named before: say who it is
                emit(c.doc_id, c.attr[0], c.attr[1], c.attr[2], passage_for(c.doc_id, c.attr[0], c.attr[1], passages))
            if info.section_unit and c.section:
                head = self._heading(c)
                if head:  # the answer to "which article" is the heading itself, quoted from the document
                    emit(c.doc_id, head[0], head[1], head[2], passage_for(c.doc_id, head[0], head[1], passages))
            emit(c.doc_id, c.start, c.end, c.text, c.passage)
            if info.asks_statement and qtokens & {fold(t) for t in re.findall(r"[\w’'-]+", c.text)} and _SPEECH.search(c.text):
                # "What caveat did X add?": X's quote goes on in the next sentences ("..., he wrote. “However ...”")
                for a, b, t in self._continuation(c):
                    emit(c.doc_id, a, b, t, passage_for(c.doc_id, a, b, passages))
        return emitter.sentences

    def _has_sections(self, doc_id: str, refs: list[str], passage_text: str) -> bool:
        """Does the document name every one of these parts ("Annex II", "Article 3")? Once per document."""
        seen = self._call.sections
        if doc_id not in seen:
            doc = self._doc(doc_id) or passage_text
            seen[doc_id] = all(re.search(rf"\b{re.escape(r)}\b", doc, re.I) for r in refs)
        return seen[doc_id]

    def _paragraph(self, c: _Cand) -> int | None:
        """Start offset of the paragraph a sentence is in (None without the document text)."""
        text = self._doc(c.doc_id)
        return text.rfind("\n\n", 0, c.start) if text else None

    def _heading(self, c: _Cand) -> tuple[int, int, str] | None:
        """Document span of the section heading a sentence stands under (the nearest one before it)."""
        text = self._doc(c.doc_id)
        if not text or not c.section:
            return None
        a = text.rfind(c.section, max(0, c.start - 20000), c.start)
        return (a, a + len(c.section), c.section) if a >= 0 else None

    def _attribution(self, c: _Cand) -> tuple[int, int, str] | None:
        """For a quote whose speaker is named earlier ("..., he said"; a paragraph going on from a quote), the
        sentence naming the speaker: the quote index's attribution (dossier.index.quotes), not a look-back here."""
        if self.quotes is None:
            return None
        span = self.quotes.attribution(c.doc_id, c.start, c.end)
        text = self._doc(c.doc_id) if span else None
        return (span[0], span[1], text[span[0]:span[1]]) if text else None

    def _continuation(self, c: _Cand, most: int = 2) -> list[tuple[int, int, str]]:
        """The sentences right after a statement that go on quoting its speaker (the quote index's next
        quotations by the same speaker), at most `most`."""
        text = self._doc(c.doc_id)
        if not text or self.quotes is None:
            return []
        theirs = self.quotes.following(c.doc_id, c.start, c.end)
        out = []
        for a, b in sentence_spans(text[c.end:c.end + 1500]):
            a, b = c.end + a, c.end + b
            if not any(a <= r["start"] < b for r in theirs):
                break
            out.append((a, b, text[a:b]))
            if len(out) >= most:
                break
        return out

    def _premise_unstated(self, info: QuestionInfo, cands: list[_Cand]) -> str:
        """"Why did X dispute finding 3?": a number the question ties to what happened must stand in one
        sentence with that action. Returns what is missing ("" when the premise is stated)."""
        if not info.numbers or not info.predicate:
            return ""
        for c in cands:
            if info.predicate in c.stems and info.numbers <= numbers(c.text):
                return ""
        return f"{info.predicate!r} together with {', '.join(sorted(_fmt_number(n) for n in info.numbers))}"

    def _speaker(self, c: _Cand, info: QuestionInfo, proper: set[str]) -> tuple[int, int, str] | None:
        """For a quote attributed by a pronoun (or not at all), the earlier sentence naming its speaker (the quote
        index's attribution), when that sentence names a person."""
        sp = self._attribution(c)
        return sp if sp and self._person_names(info, sp[2], proper) else None

    def _person_names(self, info: QuestionInfo, s: str, proper: set[str]) -> set[str]:
        return {n for n in self._new_names(info, s, proper)
                if len(n.split()) >= 2 and not n.isupper() and not _ORG_WORDS.search(n)}

    def _boost(self, info: QuestionInfo, valid: list[_Cand]) -> None:
        """Type-specific preferences among sentences that fit."""
        for c in valid:
            if info.qtype == LIST:
                enum = c.text.count(",") >= 2 or bool(re.search(r"\b(includ\w*|such as)\b", c.text))
                if enum:  # an enumeration right after the topical sentence answers a list question
                    c.rel = max(c.rel, 0.55 * c.sem + 0.45 * min(1.0, c.own + c.near)) + 0.04 * min(4, c.text.count(","))
                if info.list_head and re.search(rf"\b{re.escape(info.list_head)}\w*\b[^.;]{{0,40}}?\b(includ\w*|such as|compris\w*|consist\w* of)\b|"
                                                rf"\b{re.escape(info.list_head)}\w*:", fold(c.text)):
                    c.rel += 0.15  # "The embargoed equipment includes ...": the list itself
            elif info.qtype == DESCRIBE and info.subject and info.subject in c.text:
                c.rel += 0.05
            elif info.qtype == PERSON and self._person_names(info, c.text, set()):
                c.rel += 0.05

    # --- internals -----------------------------------------------------------------------
    def _candidates(self, passages: list[Hit]) -> list[_Cand]:
        return [_Cand(c.passage, c.hit.chunk.doc_id, c.start, c.end, c.text, set(content_stems(c.text)),
                      ctx=f"{c.prev[2] if c.prev else ''} {c.text} {c.next_text}", prev=c.prev,
                      section=c.hit.chunk.section or "", title=title_of(c.hit))
                for c in candidate_sentences(passages)]

    def _vecs(self, texts: list[str]) -> np.ndarray:
        return self._cache.vectors(texts)

    def _score(self, info: QuestionInfo, question: str, context_terms: list[str], cands: list[_Cand]) -> None:
        n = len(cands)
        df: dict[str, int] = {}
        for c in cands:
            for s in c.stems:
                df[s] = df.get(s, 0) + 1
        terms = info.key_stems
        weights = {t: math.log(1 + (n + 1) / (df.get(t, 0) + 0.5)) for t in terms}
        total = sum(weights.values()) or 1.0
        ctx_weights = {t: 0.5 * math.log(1 + (n + 1) / (df.get(t, 0) + 0.5)) for t in context_terms}
        for c in cands:
            ctx_stems = set(content_stems(c.ctx)) | set(content_stems(c.title))
            own = sum(w for t, w in weights.items() if t in c.stems)
            near = sum(w for t, w in weights.items() if t not in c.stems and t in ctx_stems)
            extra = sum(w for t, w in ctx_weights.items() if t in ctx_stems)
            c.lex = min(1.0, (own + 0.5 * near + extra) / total) if terms else 0.0
            c.own = own / total if terms else 0.0
            c.near = near / total if terms else 0.0
            c.bigram = _bigram_overlap(terms, content_stems(c.text))
            c.rel = 0.45 * c.lex + 0.15 * c.bigram  # until _semantic adds the embedding similarity

    def _semantic(self, question: str, cands: list[_Cand]) -> None:
        """Embedding similarity to the question, for the sentences that can still be an answer only: the
        embedder is most of an answer's time, and a sentence that failed the type and term checks never
        needs it."""
        if not cands:
            return
        vecs = self._vecs([question] + [c.text for c in cands])
        for c, sim in zip(cands, vecs[1:] @ vecs[0]):
            c.sem = float(max(0.0, sim))
            c.rel = 0.55 * c.sem + 0.45 * c.lex + 0.15 * c.bigram

    def _fits(self, info: QuestionInfo, c: _Cand, proper: set[str], passage_text: str) -> bool:
        s = c.text
        if info.numbers - info.id_numbers and not (info.numbers - info.id_numbers) <= numbers(passage_text):
            return False  # a number in the question (false premise?) must be stated where the answer comes from
        if info.id_numbers and not info.id_numbers <= numbers(passage_text) and not info.id_numbers <= numbers(self._doc(c.doc_id) or ""):
            return False  # ... and an identifier ("Regulation 2030/7") must at least be the document's
        if info.key_stems and (c.lex < 0.34 or (not self._followup and len(info.key_stems) >= 2 and c.own < self.min_own)):
            return False
        if info.section_refs and not self._has_sections(c.doc_id, info.section_refs, passage_text):
            return False  # "the cameras listed in Annex II": that part must exist in the document
        if info.ordinals and not all(o in fold(c.ctx) for o in info.ordinals):
            return False  # "Which company came second?": the passage must rank anyone
        new_names = self._new_names(info, s, proper)
        if info.qtype == PERSON and not new_names and self._speaker(c, info, proper):
            new_names = {"(speaker named before)"}  # “...,” he said — the speaker is named just before
        t = info.qtype
        if t == NUMBER:
            fresh = numbers(s) - info.numbers
            if info.unit == "count":
                return bool(fresh) and any(self._counts(s, stem, info.numbers) for stem in info.counted)
            if info.unit == "money":
                return bool(fresh) and bool(_MONEY.search(s))
            if info.unit == "distance":
                return bool(_DISTANCE.search(s))
            if info.unit == "duration":
                return bool(_DURATION.search(s))
            return bool(fresh)
        if t == DATE:  # a date other than the question's own numbers ("... (XU) 2030/7" is not a date)
            return bool(_MONTH.search(s) or any(float(y) not in info.numbers for y in _YEAR.findall(s)))
        if t in (PERSON, NAME):
            return bool(new_names)
        if t == PERSON_NAME:
            return any(len(n.split()) >= 2 and not n.isupper() and not _ORG_WORDS.search(n) for n in new_names)
        if t == ORG:
            if re.search(r"\b(agency|organi[sz]ation|group|firm|company|body|institute|service|fund)\s+(called\s+|named\s+)?[A-Z]", s):
                return True
            return any(_ORG_WORDS.search(n) or (n.isupper() and len(n) >= 2) or len(n.split()) >= 2 for n in new_names)
        if t == COMPANY:
            return any(_COMPANY_MARK.search(n) for n in new_names) or bool(
                re.search(r"\b(company|firm|supplier|manufacturer)\s+(?:called\s+|named\s+)?[A-Z«\"“]", s))
        if t == PLACE:
            if re.search(r"\bcome from\??$|\bfrom\?$", info.text.strip(), re.I):
                return bool(re.search(r"\bfrom\s+(the\s+)?[A-Z]", s))
            return bool(new_names)
        if t == DESCRIBE:
            last = fold(info.subject.split()[-1]) if info.subject else ""
            return bool(last) and last in fold(s) and bool(_ROLE.search(s) or re.search(rf"{re.escape(info.subject.split()[-1])},\s+(a|an|the)\b", s))
        return True

    @staticmethod
    def _presupposes(info: QuestionInfo) -> bool:
        """Why/when/how-did questions take their premise as given: it must be in the sources."""
        return bool(re.match(r"^(why|when)\b", info.text, re.I))

    @staticmethod
    def _distinctive_names(info: QuestionInfo, cands: list[_Cand]) -> list[set[str]]:
        """Names in the question that are not everywhere in the passages: the passage an answer comes
        from must mention each of them (by any of its words)."""
        out = []
        n = len(cands)
        for name in info.names:
            if " " not in name and info.text.startswith(name):
                continue  # the question's capitalised first word
            if re.fullmatch(r"[A-Z]{2,}-[a-z][\w-]*", name):
                continue  # "EU-funded" is an adjective, not a name
            toks = {fold(t) for t in name.split() if len(t) > 2 and t not in _DEMONYMS and fold(t) not in ("eu", "un")}
            if not toks:
                continue
            df = sum(1 for c in cands if sum(t in fold(c.text) for t in toks) * 3 >= 2 * len(toks))
            if df < max(2, n // 2):
                out.append(toks)
        return out

    @staticmethod
    def _new_names(info: QuestionInfo, s: str, proper: set[str]) -> set[str]:
        qnames = {fold(x) for n in info.names for x in n.split()} | set(info.key_stems)
        out = set()
        for n in names(s):
            toks = n.split()
            if n in _DEMONYMS or {fold(x) for x in toks} <= qnames:
                continue
            if len(toks) == 1 and s.lstrip("“\"'(").startswith(n) and n not in proper:
                continue  # a capitalised first word is not a name unless it is capitalised elsewhere too
            out.add(n)
        return out

    @staticmethod
    def _counts(s: str, stem_: str, exclude: set[float]) -> bool:
        """A number (digits or words) within three words before the counted thing: "14 thermal cameras"."""
        toks = re.findall(r"[\w,.]+", s)
        from ..textutil import stem as _stem

        for i, tok in enumerate(toks):
            if _stem(fold(tok).strip(".,")) == stem_:
                for t in toks[max(0, i - 4):i]:
                    if numbers(t) - exclude:
                        return True
        return False

    def _select(self, info: QuestionInfo, valid: list[_Cand]) -> list[_Cand]:
        limit = self.max_sentences_why if info.wants_long else self.max_sentences
        floor = valid[0].rel * {LIST: 0.7, EXPLAIN: 0.8, GENERIC: 0.85, DESCRIBE: 0.85}.get(info.qtype, 0.9)
        top = valid[0]
        # "What did the guards do ...?": the best sentence's own paragraph tells the rest of it
        par_floor = top.rel * 0.6 if info.wants_long else floor
        par = self._paragraph(top)
        chosen = [top]
        for c in valid[1:]:
            if len(chosen) >= limit or c.rel < max(min(floor, par_floor), self.min_relevance):
                break
            if c.rel < floor and not (par is not None and c.doc_id == top.doc_id and self._paragraph(c) == par):
                continue
            if any(_overlap(c, o) for o in chosen):
                continue
            chosen.append(c)
        if info.qtype not in (EXPLAIN, LIST, GENERIC) and len(chosen) > 2:
            chosen = chosen[:2]
        return chosen


def _acronym(name: str) -> str:
    """"European Union" -> "EU", "State Border Committee" -> "SBC"; "" for a one-word name."""
    caps = [w for w in name.split() if w[:1].isupper()]
    return "".join(w[0] for w in caps) if len(caps) >= 2 else ""


def _aliases(question_names: set[str]) -> list[tuple[re.Pattern, str]]:
    """(the acronym as a whole-word pattern, full name) for each multi-word name in the question."""
    return [(re.compile(rf"\b{re.escape(a)}\b"), n) for n in question_names if (a := _acronym(n))]


def _fmt_number(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else str(n)


def _bigram_overlap(terms: list[str], stems: list[str]) -> float:
    """Fraction of the question's consecutive key-term pairs that stand together in the sentence."""
    pairs = set(zip(terms, terms[1:]))
    if not pairs:
        return 0.0
    return len(pairs & set(zip(stems, stems[1:]))) / len(pairs)


def _proper_tokens(cands: list[_Cand]) -> set[str]:
    """Capitalised words seen somewhere other than at the start of a sentence."""
    out: set[str] = set()
    for c in cands:
        for m in re.finditer(r"(?<=[\w,;:)”’] )([A-Z][\w’'-]+)", c.text):
            out.add(m.group(1))
    return out


def _overlap(a: _Cand, b: _Cand) -> bool:
    if a.doc_id == b.doc_id and a.start < b.end and b.start < a.end:
        return True
    inter = len(a.stems & b.stems)
    return inter / max(1, min(len(a.stems), len(b.stems))) > 0.8
