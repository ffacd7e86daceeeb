"""What a question asks for: the expected answer type, its key terms, numbers and names.

The extractive engine uses this to insist that an answer sentence contains a fact of the asked-for
type (an amount for "how much", a date for "when", a name for "who"...), and that it mentions what
the question is about.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .lexicon import STATEMENT_VERBS, words_pattern
from .textutil import STOPWORDS, content_stems, fold, names, numbers

# answer types
NUMBER, DATE, PERSON, PERSON_NAME, NAME, ORG, COMPANY, PLACE, DESCRIBE, EXPLAIN, LIST, GENERIC = (
    "number", "date", "person", "person-name", "name", "organization", "company", "place", "describe", "explain", "list", "generic")

_ORG_NOUNS = (r"(organi[sz]ations?|agenc(y|ies)|bod(y|ies)|institutions?|ngos?|groups?|authorit(y|ies)|funds?|universit(y|ies)|"
              r"ministr(y|ies)|services?|committees?|councils?|courts?|news organi[sz]ations?|outlets?|media)")
_PLACE_NOUNS = r"(country|countries|city|cities|border|borders|region|regions|place|places|town|towns|republic|states?|member states?)"
_RULES: list[tuple[str, str]] = [
    (r"^(how (much|many|far|long|large|big|old|often)|what (is|was) the (amount|value|number|cost|price|sum|total|budget|range|distance)|"
     r"what (amount|number|sum|percentage|share|proportion))", NUMBER),
    (r"^(when|what (year|date|month|day)|since when|by when|how recently)|\b(what|which) (years?|months?|dates?|day)\b", DATE),
    (r"\b(which|what) (?!(?:kinds?|types?|sorts?) of)([\w-]+ ){0,2}(company|companies|firm|firms|supplier|suppliers|manufacturer|manufacturers|contractor|vendor)\b|"
     r"^what (is|was|are|were) the names? of .*\b(company|companies|firm|firms|supplier|suppliers|manufacturer|contractor)\b|"
     r"^what (is|was) (the|that|this) (company|firm|supplier|manufacturer) called", COMPANY),
    (r"^what (is|was|are|were) the names? of .*\b(people|person|men|women|asylum seekers|refugees|officers|guards|journalists|"
     r"victims|migrants|chechens|detainees)\b", PERSON_NAME),
    (r"^what (is|was|are|were) the names? of|^what (is|was) .* called\b", NAME),
    (rf"\b(which|what) ([\w-]+ )?{_ORG_NOUNS}\b", ORG),
    (rf"^where\b|\b(which|what) ([\w-]+ )?{_PLACE_NOUNS}\b", PLACE),
    (r"^(?i:who (?:is|was|are|were)) [A-Z]", DESCRIBE),
    (r"^(who|whom|whose|by whom)\b", PERSON),
    (r"^(why|how (did|does|do|is|are|was|were|could|can|might)|what (are|were|is|was) the (concerns?|reasons?|risks?|problems?|criticism|arguments?|effects?|goals?|aims?|purpose|focus)|"
     r"what (concerns|criticism|risks?|problems?)|in what way|what (did|does|do) .* (say|said|argue|claim|think|note|accuse|decry|describe|write|warn)|"
     r"what (did|does|do) .* do\b)", EXPLAIN),
    (r"^(what|which) ([\w-]+ )?(equipment|items|things|kinds?|types?|countries|cases|goods|products|measures|steps|weapons|"
     r"vehicles|devices|crimes|offen[cs]es|rights|violations|abuses|sanctions|restrictions)\b|^(list|name) ", LIST),
]
# "..., according to the article?": says where to look, not what the answer is about
_META = re.compile(r",?\s*(according to|as (?:stated|reported|described) in|in)\s+(the|this)\s+(article|report|document|text|sources?|story|brief|decision)\b", re.I)
_CONTEXT = re.compile(r"\s*\(([^()]*)\)\s*$")
_FOLLOWUP = re.compile(r"^(and|but|also|so|what about|how about)\b|\b(they|them|their|it|its|he|him|his|she|her|this|that|those|these|there)\b", re.I)
# words that say what kind of answer is wanted, not what it is about
_TYPE_WORDS = {"much", "mani", "far", "long", "year", "date", "compani", "firm", "supplier", "organ", "organis", "organiz",
               "agenc", "bodi", "place", "countri", "citi", "name", "kind", "type", "call"}
# ... and words too generic to be the focus of a question
_NOT_FOCUS = _TYPE_WORDS | {"thing", "way", "role", "caveat", "view", "document", "principl", "articl", "part", "reason"}


@dataclass
class QuestionInfo:
    text: str
    qtype: str
    key_stems: list[str] = field(default_factory=list)  # content stems minus question/type words
    numbers: set[float] = field(default_factory=set)
    id_numbers: set[float] = field(default_factory=set)  # numbers inside identifiers ("2023/118", "M-12", "NBGS-2021-03")
    identifiers: list[str] = field(default_factory=list)  # the identifiers themselves
    section_refs: list[str] = field(default_factory=list)  # parts of a document named in the question ("Annex II", "Article 3")
    names: set[str] = field(default_factory=set)
    subject: str = ""  # DESCRIBE: the person or thing asked about
    unit: str = ""  # NUMBER: "count" (how many X), "money", "distance", "duration" or ""
    counted: list[str] = field(default_factory=list)  # NUMBER/count: stems of the thing counted
    focus: str = ""  # stem of the thing asked about ("what penalties" -> "penalti")
    predicate: str = ""  # stem of the verb the question turns on ("who led ...", "what does X prohibit?")
    ordinals: set[str] = field(default_factory=set)  # "second", "third"...: a rank the answer must state
    list_head: str = ""  # LIST: the (folded) noun whose members are asked for ("what kinds of equipment" -> "equipment")
    section_unit: str = ""  # "which article / annex / section ...": the answer names a part of a document
    asks_statement: bool = False  # "what did X say / add / argue ...": X's own words are the answer

    @property
    def wants_long(self) -> bool:
        return self.qtype in (EXPLAIN, LIST)


def with_context(question: str, context: str) -> str:
    """A question that carries earlier context for the engine: "And who supplied them? (What did the
    EU fund)". The context's own parentheses are dropped so the convention stays unambiguous."""
    ctx = re.sub(r"\s+", " ", context.replace("(", " ").replace(")", " ")).strip().rstrip("?")
    return f"{question} ({ctx})" if ctx else question


def split_context(question: str) -> tuple[str, str]:
    """(the question asked now, its context) from `with_context`'s form; context "" when there is none."""
    m = _CONTEXT.search(question)
    if not m or m.start() == 0:
        return question, ""
    return question[:m.start()], m.group(1)


def analyze(question: str) -> QuestionInfo:
    q = _META.sub("", question.strip()).strip() or question.strip()
    low = fold(q)
    qtype = GENERIC
    for pattern, t in _RULES:
        if re.search(pattern, q if t == DESCRIBE else low, re.I if t != DESCRIBE else 0):
            qtype = t
            break
    stems = [s for s in content_stems(q) if s not in _TYPE_WORDS]
    info = QuestionInfo(q, qtype, key_stems=list(dict.fromkeys(stems)), numbers=numbers(q), names=names(q))
    fm = re.match(r"^(?:what|which)\s+(?:(?:is|are|was|were)\s+(?:the|its|their)\s+([a-z][\w-]+)\s+of\b|([a-z][\w-]+)\s+(?:does|did|do|is|are|was|were|has|have|had)\b)", low)
    fword = fm and (fm.group(1) or fm.group(2))
    if fword and fword not in STOPWORDS:
        fs = content_stems(fword)
        info.focus = fs[0] if fs and fs[0] not in _NOT_FOCUS else ""
    if qtype == NUMBER:
        m = re.match(r"^how many\s+(?:of\s+(?:the|these|those|its|their)\s+)?((?:[\w'’-]+\s+){0,5})", low + " ")
        if m and re.match(r"(euros?|dollars?|pounds?|roubles?|rubles?|francs?|kroner?|zloty)\b", m.group(1)):
            info.unit = "money"  # "how many euros' worth of ..." asks for an amount
        elif m:
            info.unit = "count"
            group = []
            for w in m.group(1).replace("’", "'").split():
                w = w.strip("'")
                if w in STOPWORDS or re.fullmatch(r"\w+ed|were|was|are|is|did|do|does|have|has|had|will|would|can|could", w):
                    if group:
                        break
                    continue
                group.append(w)
            info.counted = [st for w in group for st in content_stems(w) if not numbers(st)][-2:]
        elif re.match(r"^how much|what (is|was) the (amount|value|cost|price|sum|total|budget)|worth", low):
            info.unit = "money"
        elif re.match(r"^how far|what (is|was) the (range|distance)", low):
            info.unit = "distance"
        elif re.match(r"^how long (has|have|had|did|does|do|will|was|were)\b", low) and not re.search(r"\b(border|road|river|wall|fence)\b", low):
            info.unit = "duration"
        elif re.match(r"^how long", low):
            info.unit = "distance"
    if qtype == LIST:
        m = re.match(r"^(?:what|which)\s+(?:(?:kinds?|types?|sorts?)\s+of\s+)?(?:[\w-]+\s+)??([\w-]+?)(?:s)?\b(?=\s+(?:did|does|do|are|is|was|were|has|have|had|can|could|will)\b)", low)
        info.list_head = m.group(1) if m else ""
    m = re.match(r"^(?:in |under |by )?(?:which|what) (article|annex|section|chapter|paragraph|recital|clause|part)s?\b", low)
    info.section_unit = m.group(1) if m else ""
    info.section_refs = [f"{m.group(1)} {m.group(2)}" for m in _SECTION_REF.finditer(q)]
    info.identifiers = [m.group(0) for m in _IDENT.finditer(q)]
    info.id_numbers = {n for tok in info.identifiers for n in numbers(tok.replace("/", " ").replace("-", " "))}
    info.predicate = _predicate(q)
    info.ordinals = set(_ORDINALS.findall(low))
    info.asks_statement = bool(_STATEMENT.search(low))
    if qtype == DESCRIBE:
        m = re.match(r"^who (?:is|was|are|were) (.+?)\??$", q, re.I)
        info.subject = (m.group(1) if m else "").strip()
    return info


# identifiers name a document, tender or case: "2023/118", "M-12", "NBGS-2021-03", "(EU) 2019/1"
_IDENT = re.compile(r"\b(?:[A-Za-z]+-)*\d+(?:[/-][A-Za-z0-9]+)+\b|\b[A-Za-z]+-\d+\b")
_SECTION_REF = re.compile(r"\b(Article|Annex|Section|Chapter|Recital|Paragraph|Clause|Appendix)\s+([IVXLC]+|\d+[a-z]?)\b")
_AUX = r"(?:did|does|do|has|have|had|was|were|is|are|will|would|could|can|should)"
_DETERMINERS = {"the", "a", "an", "its", "his", "her", "their", "this", "that", "these", "those"}
# verbs too general to tell one sentence from another
_WEAK_VERBS = {"do", "did", "does", "say", "said", "says", "make", "made", "have", "has", "had", "get", "got", "go", "went",
               "come", "came", "take", "took", "use", "used", "happen", "happened", "mean", "meant"}
_ORDINALS = re.compile(r"\b(second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|runner-up)\b")
_STATEMENT = words_pattern(STATEMENT_VERBS)


def _predicate(q: str) -> str:
    """The verb a question turns on, as a stem: "Who led the audit?" -> "led"; "What does the principle
    prohibit?" -> "prohibit"; "Why did Tomas Hedberg dispute finding 3?" -> "disput". "" when unsure
    ("Why did the border guards hand ..." has no capitalised subject to tell where the verb starts)."""
    q = q.strip().rstrip("?").strip()
    verb = ""
    m = re.match(rf"^who\s+(?!{_AUX}\b)([a-z][\w-]*)", q, re.I)
    if m:
        verb = m.group(1)
    elif (m := re.match(rf"^(?:what|which)\b.*?\b{_AUX}\s+((?:\S+\s+){{1,5}})([a-z][\w-]*)$", q, re.I)):
        before = m.group(1).split()[-1].lower()
        if m.group(2)[:1].islower() and before not in STOPWORDS:
            verb = m.group(2)  # "What does <subject of at most five words> <verb>?"
    else:
        m = re.match(rf"^(?:why|how|when)\s+{_AUX}\s+(.+)$", q, re.I)
        if m:
            toks = m.group(1).split()
            i = 0
            while i < len(toks) and toks[i].lower() in _DETERMINERS:
                i += 1
            j = i
            while j < len(toks) and toks[j][:1].isupper():
                j += 1
            if j > i and j < len(toks) and toks[j][:1].islower():
                verb = toks[j]
    verb = verb.lower()
    if not verb or verb in _WEAK_VERBS or verb in STOPWORDS:
        return ""
    stems = content_stems(verb)
    return stems[0] if stems else ""


def is_followup(question: str) -> bool:
    return bool(_FOLLOWUP.search(question.strip()))


def stopword(w: str) -> bool:
    return w in STOPWORDS
