"""The slots of a sentence that a draft check compares with a source sentence, one by one: quantities
(value and unit kind), dates and years, names (people, organisations, places), roles, and polarity
(negation and antonym verbs such as allow/prohibit, accept/dispute, increase/decrease).

Parsing is delegated where a library does it well: numeric values through the project's number reader
(`textutil.numbers`: "380,900", "2 million", "six"), dates through `dateutil` (which of day, month and
year a mention gives), name spellings through `rapidfuzz` ("Lukashenka" matches "Lukashenko").
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz import fuzz

from .lexicon import ORG_WORDS
from .textutil import NEGATIONS, content_stems, fold, names, numbers, stem, words

_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|December|"
           "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec")
_DATE = re.compile(rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?(?:{_MONTHS})\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?,?)?(?:\s+(?:1[89]|20)\d\d)?\b")
_YEAR = re.compile(r"(?<![\w./\-])(?:1[89]|20)\d\d(?![\w/\-]*\d)(?!\s*(?:%|percent|euros?|dollars?|EUR|USD))")
# a number as written (not inside an identifier such as NBGS-2021-03 or 2023/118), with a following unit word
_QTY = re.compile(r"(?<![\w./\-])([€$£]\s?)?(\d{1,3}(?:[,\u00a0\u202f\u2009]\d{3})+|\d+(?:\.\d+)?)"
                  r"(?:\s*(million|billion|thousand|bn|m|k)\b)?(?![\w/\-]*\d)(?:[\s\-]*([A-Za-z%’']+))?")
_WORD_NUMBERS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                 "twenty", "thirty", "forty", "fifty", "hundred", "dozen"}
_UNITS = {
    "money": ("euro", "euros", "eur", "€", "dollar", "dollars", "usd", "$", "pound", "pounds", "£", "rouble", "roubles"),
    "length": ("meter", "meters", "metre", "metres", "m", "km", "kilometer", "kilometers", "kilometre", "kilometres", "mile", "miles"),
    "duration": ("day", "days", "week", "weeks", "month", "months", "year", "years", "hour", "hours", "minute", "minutes"),
    "percent": ("%", "percent", "per"),
}
_UNIT_OF = {u: kind for kind, us in _UNITS.items() for u in us}

ROLE_HEADS = ("spokesman", "spokeswoman", "spokesperson", "officer", "director", "head", "professor", "lecturer", "advisor",
              "adviser", "auditor", "analyst", "expert", "lawyer", "president", "minister", "rapporteur", "consultant",
              "researcher", "photographer", "reporter", "journalist", "chairman", "chairwoman", "chair", "secretary",
              "manager", "editor", "commissioner", "ambassador", "judge", "prosecutor", "chief", "deputy", "founder",
              "ceo", "mayor", "governor", "spokesmen", "investigator", "inspector", "coordinator", "activist", "pilot",
              "engineer", "doctor", "nurse", "teacher", "commander", "captain", "colonel", "sergeant", "economist",
              "scientist", "diplomat", "chancellor", "senator", "treasurer", "envoy")
_ROLE_MODS = ("senior", "chief", "deputy", "assistant", "associate", "full", "press", "research", "legal", "general", "special",
              "executive", "managing", "vice", "lead", "former", "acting", "junior", "principal", "defense", "defence")
_ROLE = re.compile(r"\b((?:(?:%s)\s+){0,3})(%s)\b(\s+general)?(\s+of\s+(?!the\b)[a-z]+)?" %
                   ("|".join(_ROLE_MODS), "|".join(ROLE_HEADS)))

# antonym verbs and adjectives: stem -> (concept, sign); the same concept with opposite signs is a flipped claim
_ANTONYMS = {
    "allow": ("allow", 1), "permit": ("allow", 1), "authoris": ("allow", 1), "authoriz": ("allow", 1), "legal": ("allow", 1),
    "prohibit": ("allow", -1), "ban": ("allow", -1), "forbid": ("allow", -1), "forbidden": ("allow", -1), "illeg": ("allow", -1),
    "increas": ("increase", 1), "rise": ("increase", 1), "rose": ("increase", 1), "grew": ("increase", 1), "grow": ("increase", 1),
    "escal": ("increase", 1), "doubl": ("increase", 1),
    "decreas": ("increase", -1), "fell": ("increase", -1), "fall": ("increase", -1), "declin": ("increase", -1),
    "reduc": ("increase", -1), "cut": ("increase", -1), "drop": ("increase", -1), "halv": ("increase", -1),
    "accept": ("accept", 1), "agre": ("accept", 1), "admit": ("accept", 1), "approv": ("accept", 1), "confirm": ("accept", 1),
    "disput": ("accept", -1), "reject": ("accept", -1), "deni": ("accept", -1), "refus": ("accept", -1), "contest": ("accept", -1),
    "compli": ("comply", 1), "compliant": ("comply", 1), "respect": ("comply", 1),
    "violat": ("comply", -1), "breach": ("comply", -1), "contraven": ("comply", -1),
    "renew": ("renew", 1), "extend": ("renew", 1), "lift": ("renew", -1), "suspend": ("renew", -1),
    "win": ("win", 1), "won": ("win", 1), "lost": ("win", -1), "lose": ("win", -1),
    "befor": ("before", 1), "after": ("before", -1), "earlier": ("before", 1), "later": ("before", -1),
}
_NEG_STEMS = {"not", "no", "never", "none", "neither", "nor", "without", "cannot", "nothing", "lack", "lacks", "n't"}


@dataclass(frozen=True)
class Quantity:
    value: float
    kind: str  # money | length | duration | percent | count
    text: str  # as written, with its unit
    pos: int = 0  # character offset in the sentence


@dataclass(frozen=True)
class Moment:
    year: int
    month: int | None
    day: int | None
    text: str
    pos: int = 0

    def within(self, other: "Moment") -> bool:
        """self says no more than other, and agrees with it: "2021" within "9 June 2021"."""
        return self.year == other.year and (self.month is None or self.month == other.month) and (
            self.day is None or self.day == other.day)


@dataclass
class Slots:
    quantities: list[Quantity] = field(default_factory=list)
    moments: list[Moment] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    negations: list[tuple[tuple[str, ...], str]] = field(default_factory=list)  # (stems it governs, phrase)
    antonyms: list[tuple[str, int, str]] = field(default_factory=list)  # (concept, sign, word)
    folded: str = ""
    tokens: frozenset = frozenset()  # folded words
    slot_stems: frozenset = frozenset()  # stems of the slot words (left out of topical coverage)


def _parse_date(text: str) -> Moment | None:
    """Which of day, month, year the mention gives: parsed twice with different defaults (dateutil),
    a component that changes with the default was not in the text."""
    from dateutil import parser

    try:
        a = parser.parse(text, default=datetime(1111, 1, 1))
        b = parser.parse(text, default=datetime(1112, 2, 2))
    except (ValueError, OverflowError):
        return None
    if a.year != b.year:  # a month without a year ("in May") says too little to compare
        return None
    return Moment(a.year, a.month if a.month == b.month else None, a.day if a.day == b.day else None, text)


def _moments(text: str) -> tuple[list[Moment], str]:
    """Dates and bare years, and the text with them blanked (so their digits are not read as quantities)."""
    out: list[Moment] = []
    chars = list(text)
    for m in _DATE.finditer(text):
        if not re.search(r"\d", m.group(0)):
            continue
        mo = _parse_date(m.group(0).rstrip(","))
        if mo is not None:
            out.append(Moment(mo.year, mo.month, mo.day, mo.text, m.start()))
            chars[m.start():m.end()] = " " * (m.end() - m.start())
    blanked = "".join(chars)
    for m in _YEAR.finditer(blanked):
        out.append(Moment(int(m.group(0)), None, None, m.group(0), m.start()))
        chars[m.start():m.end()] = " " * (m.end() - m.start())
    return out, "".join(chars)


def _quantities(text: str) -> list[Quantity]:
    out = []
    for m in _QTY.finditer(text):
        vals = numbers(m.group(2) + (" " + m.group(3) if m.group(3) else ""))
        if not vals:
            continue
        unit = fold(m.group(4) or "").strip("’'")
        kind = _UNIT_OF.get(fold(m.group(1) or "").strip()) or _UNIT_OF.get(unit, "count")
        shown = m.group(0) if kind != "count" else m.group(0)[: m.end(3) - m.start() if m.group(3) else m.end(2) - m.start()]
        out.append(Quantity(max(vals), kind, shown.strip(), m.start()))
    for w in re.finditer(r"[A-Za-z]+", text):
        if w.group(0).lower() in _WORD_NUMBERS:
            nxt = re.match(r"\s+([A-Za-z]+)", text[w.end():])
            unit = fold(nxt.group(1)) if nxt else ""
            for v in numbers(w.group(0)):
                out.append(Quantity(v, _UNIT_OF.get(unit, "count"), w.group(0) + (" " + nxt.group(1) if unit in _UNIT_OF else ""), w.start()))
    return out


def _negations(text: str) -> list[tuple[tuple[str, ...], str]]:
    """For each negation, the content stems it governs (up to three content words after it) and the
    phrase as written ("no register showing")."""
    toks = words(text)
    out = []
    for i, w in enumerate(toks):
        if w in _NEG_STEMS or w.endswith("n't"):
            after = [stem(t) for t in toks[i + 1:i + 6] if t not in NEGATIONS and len(t) > 2 and content_stems(t)][:3]
            out.append((tuple(after), " ".join(toks[max(0, i - 1):i + 3])))
    return out


@functools.lru_cache(maxsize=8192)
def slots(text: str) -> Slots:
    """Every slot of a sentence (cached: source sentences recur across draft sentences)."""
    moments, rest = _moments(text)
    quantities = _quantities(rest)
    f = fold(text)
    roles = [" ".join((m.group(0)).split()) for m in _ROLE.finditer(f)]
    nm = sorted(n for n in names(_DATE.sub(" ", text)) if not re.fullmatch(r"[\d\W]+", n))
    antonyms = []
    for w in words(text):
        st = stem(w)
        hit = _ANTONYMS.get(st) or _ANTONYMS.get(w)
        if hit:
            antonyms.append((hit[0], hit[1], w))
    slot_words = ([w for n in nm for w in n.split()] + [w for r in roles for w in r.split()] + [a[2] for a in antonyms]
                  + [w for q in quantities for w in q.text.split()])
    return Slots(quantities, moments, nm, roles, _negations(text), antonyms, " ".join(f.split()),
                 frozenset(words(text)), frozenset(s for w in slot_words for s in content_stems(w)))


_ORG_EXTRA = frozenset(("Ltd", "AS", "Inc", "GmbH", "SA", "LLC", "plc", "Company", "Corporation", "Collective", "Agency", "Group",
                        "Trust", "Programme", "Program", "Party", "Society", "Federation", "Authority", "Board", "Department",
                        "Marine", "Communications", "Optics", "Systems", "Technologies"))


def org_like(name: str) -> bool:
    parts = name.split()
    return any(p in ORG_WORDS or p in _ORG_EXTRA for p in parts) or any(p.isupper() and len(p) > 1 for p in parts)


# ----------------------------------------------------------------------------- comparisons


@dataclass(frozen=True)
class Conflict:
    kind: str  # number | date | name | organisation | role | polarity
    source: str
    draft: str

    def reason(self) -> str:
        if self.kind == "polarity" and self.source == "no negation":
            return f"the draft negates it (“{self.draft}”), the source does not"
        if self.kind == "polarity" and self.draft == "no negation":
            return f"the source negates it (“{self.source}”), the draft does not"
        if self.kind == "polarity":
            return f"the source says “{self.source}”, the draft the opposite, “{self.draft}”"
        what = {"number": "", "date": "", "name": "", "organisation": "", "role": "the role "}[self.kind]
        return f"the source says {what}{self.source}, the draft {what}{self.draft}"


def _same_value(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def _name_found(name: str, pool: Slots) -> bool:
    """Every token of the name occurs in the pool (as a word, or as a close spelling of a name token)."""
    pool_names = [fold(t) for n in pool.names for t in n.split()]
    for tok in (fold(t) for t in name.split()):
        tok = tok.replace("’s", "").replace("'s", "")
        if tok in pool.tokens or any(fuzz.ratio(tok, p) >= 88 for p in pool_names):
            continue
        if "-" in tok and all(part in pool.tokens for part in tok.split("-") if part):  # "Human-rights" at a sentence start
            continue
        if len(tok) <= 2 or tok in ("of", "the", "and", "for"):
            continue
        return False
    return True


def missing(draft: Slots, pool: Slots) -> list[tuple[str, str]]:
    """Draft slot values the pool (a source sentence and its neighbours) does not state: (kind, as written)."""
    out = []
    for q in draft.quantities:
        if not any(_same_value(q.value, p.value) for p in pool.quantities):
            out.append(("number", q.text))
    for mo in draft.moments:
        if not any(mo.within(p) for p in pool.moments):
            out.append(("date", mo.text))
    for n in draft.names:
        if not _name_found(n, pool):
            out.append(("organisation" if org_like(n) else "name", n))
    for r in draft.roles:
        if r not in pool.folded:
            out.append(("role", r))
    return out


_REFERRING = re.compile(r"^\s*[\"\u201c\u201e\u00ab']|\b(?:he|she|they|his|her|their|him)\b", re.IGNORECASE)


def refers_back(text: str) -> bool:
    """The sentence names its speaker or actor elsewhere: a quotation that opens it, or a third-person pronoun
    ("..., he said")."""
    return bool(_REFERRING.search(text))


def conflicts(draft: Slots, source: Slots, draft_missing: list[tuple[str, str]],
              context: list[Slots] | None = None) -> list[Conflict]:
    """What the source sentence states differently: a draft value it lacks paired with a value of the same
    kind that the draft lacks, and a flipped polarity. `context`: the slots of the neighbouring sentences,
    nearest first, read for a person's name when the source sentence names nobody and refers back to
    someone (a pronoun, an opening quotation mark): the draft's "Dario Velli said" against '"...," he said'
    after a sentence naming Mira Castellan."""
    out: list[Conflict] = []
    miss_kinds = {k for k, _ in draft_missing}
    if "number" in miss_kinds:
        dq = [q for q in draft.quantities if ("number", q.text) in draft_missing]
        for q in dq:
            other = [s for s in source.quantities if s.kind == q.kind and not any(_same_value(s.value, d.value) for d in draft.quantities)]
            if other:
                out.append(Conflict("number", other[0].text, q.text))
                break
    if "date" in miss_kinds:
        dm = [m for m in draft.moments if ("date", m.text) in draft_missing]
        other = [s for s in source.moments if not any(d.within(s) or s.within(d) for d in draft.moments)]
        if dm and other:
            out.append(Conflict("date", other[0].text, dm[0].text))
    for kind in ("name", "organisation"):
        if kind in miss_kinds:
            dn = [n for k, n in draft_missing if k == kind]
            extra = [n for n in source.names if not _name_found(n, draft) and not (draft.folded and fold(n) in draft.folded)]
            same = [n for n in extra if org_like(n) == (kind == "organisation")]
            if dn and kind == "name" and not extra and context and refers_back(source.folded):
                same = [n for ctx in context for n in ctx.names
                        if not org_like(n) and " " in n.strip() and not _name_found(n, draft)][:1]
            if dn and (same or extra):
                pick = (same or extra)[0]
                out.append(Conflict("organisation" if org_like(dn[0]) or org_like(pick) else "name", pick, dn[0]))
                break
    if "role" in miss_kinds:
        extra = [r for r in source.roles if r not in draft.folded]
        if extra:
            out.append(Conflict("role", extra[0], next(n for k, n in draft_missing if k == "role")))
    if not any(c.kind == "role" for c in out):
        bound_r = rebound_role(draft, source)
        if bound_r:
            out.append(bound_r)
    if not any(c.kind == "date" for c in out):
        bound = rebound_date(draft, source)
        if bound:
            out.append(bound)
    flip = polarity_flip(draft, source)
    if flip:
        out.append(flip)
    return out


def _relevant(negs: list[tuple[tuple[str, ...], str]], other_stems: set[str]) -> list[str]:
    """The phrases of the negations that govern a word the other sentence has too."""
    return [phrase for governed, phrase in negs if any(s in other_stems for s in governed)]


def _signs(s: Slots) -> dict[str, tuple[int, str]]:
    """Each antonym concept's sign over the sentence (a product: "prohibits ... authorising" is negative) and its words."""
    out: dict[str, tuple[int, str]] = {}
    for c, sign, w in s.antonyms:
        prev = out.get(c)
        out[c] = (prev[0] * sign, f"{prev[1]} … {w}") if prev else (sign, w)
    return out


def polarity_flip(draft: Slots, source: Slots) -> Conflict | None:
    """Opposite effective polarity: an antonym concept both sentences use with opposite signs once their
    negations are counted, or, where they share no such concept, a negation on one side only that governs
    words both sides have."""
    dstems = set(content_stems(draft.folded))
    sstems = set(content_stems(source.folded))
    nd, ns = _relevant(draft.negations, sstems), _relevant(source.negations, dstems)
    dsign, ssign = _signs(draft), _signs(source)
    shared = [c for c in dsign if c in ssign]
    for c in shared:
        d_eff = dsign[c][0] * (-1) ** len(nd)
        s_eff = ssign[c][0] * (-1) ** len(ns)
        if d_eff != s_eff:
            return Conflict("polarity", ssign[c][1], dsign[c][1])
    if not shared and len(nd) % 2 != len(ns) % 2:
        return Conflict("polarity", ns[0] if ns else "no negation", nd[0] if nd else "no negation")
    return None


def _nearest(q: Quantity, moments: list[Moment]) -> Moment | None:
    return min(moments, key=lambda m: abs(m.pos - q.pos), default=None)


def rebound_date(draft: Slots, source: Slots) -> Conflict | None:
    """A figure is bound to its nearest date: "1,318 people ... in 2021" against "1,318 people ... in 2022,
    more than double the 604 ... in 2021" states the figure's year wrongly though both years occur."""
    if len(source.moments) < 2:
        return None
    for q in draft.quantities:
        twin = next((s for s in source.quantities if _same_value(s.value, q.value)), None)
        dm, sm = _nearest(q, draft.moments), _nearest(twin, source.moments) if twin else None
        if dm is None or sm is None or dm.within(sm) or sm.within(dm):
            continue
        if not any(sm.within(d) or d.within(sm) for d in draft.moments):
            return Conflict("date", sm.text, dm.text)
    return None


def _gap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, b[0] - a[1], a[0] - b[1])


def _name_span(folded: str, name: str) -> tuple[int, int] | None:
    toks = [fold(t) for t in name.split() if len(t) > 1]
    if not toks:
        return None
    first, last = folded.find(toks[0]), folded.find(toks[-1])
    if first < 0 or last < 0:
        return None
    return min(first, last), max(first, last) + len(toks[-1])


def _bound_role(folded: str, span: tuple[int, int], limit: int = 40) -> str | None:
    """The role written closest to a name (an apposition or a title), if any is within `limit` characters."""
    best = min(((_gap(span, m.span()), " ".join(m.group(0).split())) for m in _ROLE.finditer(folded)), default=None)
    return best[1] if best and best[0] <= limit else None


def rebound_role(draft: Slots, source: Slots) -> Conflict | None:
    """A role is bound to the name written next to it: "Dario Velli, a photographer" against "photographer
    Anja Rask and reporter Dario Velli" gives Velli the other person's role though both roles occur."""
    for n in draft.names:
        dspan, sspan = _name_span(draft.folded, n), _name_span(source.folded, n)
        if dspan is None or sspan is None:
            continue
        dr, sr = _bound_role(draft.folded, dspan), _bound_role(source.folded, sspan)
        if dr and sr and dr != sr and dr not in sr and sr not in dr:
            return Conflict("role", f"{sr} ({n})", dr)
    return None
