"""What a question asks for: the expected answer type, its key terms, numbers and names.

The extractive engine uses this to insist that an answer sentence contains a fact of the asked-for
type (an amount for "how much", a date for "when", a name for "who"...), and that it mentions what
the question is about.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .textutil import STOPWORDS, content_stems, fold, names, numbers

# answer types
NUMBER, DATE, PERSON, ORG, COMPANY, PLACE, DESCRIBE, EXPLAIN, LIST, GENERIC = (
    "number", "date", "person", "organization", "company", "place", "describe", "explain", "list", "generic")

_RULES: list[tuple[str, str]] = [
    (r"^(how (much|many|far|long|large|big|old|often)|what (is|was) the (amount|value|number|cost|price|sum|total|budget|range|distance)|"
     r"what (amount|number|sum|percentage|share|proportion)|how many)", NUMBER),
    (r"^(when|what (year|date|month|day)|in (what|which) (year|month)|since when|by when|how recently)", DATE),
    (r"^(which|what) (company|companies|firm|firms|supplier|suppliers|manufacturer|manufacturers|contractor|vendor)", COMPANY),
    (r"^(which|what) (organi[sz]ation|organi[sz]ations|agency|agencies|body|bodies|institution|ngo|ngos|group|groups|"
     r"authority|authorities|fund|university|ministry|service|committee|council|court)", ORG),
    (r"^(where|which (country|countries|city|cities|border|region|place|town|republic)|what (country|city|border|region|place))", PLACE),
    (r"^(?i:who (?:is|was|are|were)) [A-Z]", DESCRIBE),
    (r"^(who|whom|whose|by whom)", PERSON),
    (r"^(why|how (did|does|do|is|are|was|were|could|can|might)|what (are|were|is|was) the (concerns?|reasons?|risks?|problems?|criticism|arguments?|effects?|goals?|aims?|purpose|focus)|"
     r"what (concerns|criticism|risks?|problems?)|in what way|what (did|does|do) .* (say|said|argue|claim|think|note|accuse|decry|describe|write|warn))", EXPLAIN),
    (r"^(what|which) (equipment|items|things|kinds?|types?|countries|cases)|^(list|name) ", LIST),
]
_FOLLOWUP = re.compile(r"^(and|but|also|so|what about|how about)\b|\b(they|them|their|it|its|he|him|his|she|her|this|that|those|these|there)\b", re.I)
_TYPE_WORDS = {"much", "mani", "far", "long", "year", "date", "compani", "firm", "supplier", "organ", "organis", "organiz",
               "agenc", "bodi", "place", "countri", "citi", "name", "kind", "type"}


@dataclass
class QuestionInfo:
    text: str
    qtype: str
    key_stems: list[str] = field(default_factory=list)  # content stems minus question/type words
    numbers: set[float] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    subject: str = ""  # DESCRIBE: the person or thing asked about

    @property
    def wants_long(self) -> bool:
        return self.qtype in (EXPLAIN, LIST)


def analyze(question: str) -> QuestionInfo:
    q = question.strip()
    low = fold(q)
    qtype = GENERIC
    for pattern, t in _RULES:
        if re.search(pattern, q if t == DESCRIBE else low, re.I if t != DESCRIBE else 0):
            qtype = t
            break
    stems = [s for s in content_stems(q) if s not in _TYPE_WORDS]
    info = QuestionInfo(q, qtype, list(dict.fromkeys(stems)), numbers(q), names(q))
    if qtype == DESCRIBE:
        m = re.match(r"^who (?:is|was|are|were) (.+?)\??$", q, re.I)
        info.subject = (m.group(1) if m else "").strip()
    return info


def is_followup(question: str) -> bool:
    return bool(_FOLLOWUP.search(question.strip()))


def stopword(w: str) -> bool:
    return w in STOPWORDS
