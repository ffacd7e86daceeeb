"""Who said what: every direct quotation and reported statement in a document, with its speaker.

`extract_quotes(text)` returns `Quote`s whose offsets are exact (`text[q.start:q.end] == q.text`):

- **direct**: the words inside quotation marks (curly “…” or straight "…"; quotes inside quotes stay part of
  the outer one; a quote running over several paragraphs, each opening with a quote mark, is one quote per
  paragraph), when a speaker says them. A one-word quote, a short quoted term nobody is said to say (scare
  quotes, "non-refoulement", a headline) and a quote in parentheses are not quotations.
- **reported**: a sentence that says in the writer's words what a named speaker said ("X said that ...",
  "according to X, ...", "X argues/noted/wrote ..."); the whole sentence is the quote.

Speakers: a person (full name; the role and organisation from an apposition such as "Joshua Franco, a senior
research advisor at Amnesty International", "Presiding Judge Elin Sandvik" or "Franco of Amnesty
International") or an organisation speaking as a body ("Human Rights Watch has decried ..."). "he/she said",
"the judge added" and a quote paragraph with no attribution of its own (a continuation) go to the speaker
named before; a surname alone ("Franco argues") to the full name mentioned earlier in the document; an
acronym defined in the text ("... Republic of Belarus (SBC)") to the organisation's name.

No model: regular expressions over the document's paragraphs, and the sentence splitter only for
paragraphs that hold a quotation mark or a verb of saying (most paragraphs of a corpus hold neither, so
extraction is cheap next to embedding).
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import asdict, dataclass, field

from .sentences import paragraph_spans, sentence_spans, within_punkt_budget

QUOTES_VERSION = "4"  # bump when the extractor changes what it finds: stored documents are re-read (Catalog.refresh_quotes)

# verbs that attribute speech to the subject before them ("X said") or the name after them ("said X")
SAY_VERBS = ("said", "says", "say", "added", "adds", "argued", "argues", "argue", "wrote", "writes", "told", "tells", "noted",
             "notes", "warned", "warns", "explained", "explains", "stated", "states", "claimed", "claims", "underscored",
             "stressed", "insisted", "insists", "accused", "decried", "criticised", "criticized", "condemned", "testified",
             "submitted", "conceded", "acknowledged", "admitted", "announced", "asserted", "replied", "responded", "observed",
             "emphasised", "emphasized", "maintained", "contended", "defended", "disputed", "denied", "confirmed", "held",
             "ruled", "concluded", "described", "describing", "adding", "arguing", "saying", "noting", "writing", "recalled")
# of these, the ones that need "that" (or a quote) after them to report speech: "were held for 14 days" does not
NEEDS_THAT = frozenset(("held", "condemned", "criticised", "criticized", "ruled", "concluded", "described", "describing", "submitted", "observed", "maintained",
                        "confirmed", "denied", "defended", "recalled"))
# role words: a lowercase phrase holding one is a role ("a senior research advisor"), a capitalised one a title
ROLE_WORDS = ("advisor", "adviser", "professor", "spokesman", "spokeswoman", "spokesperson", "head", "director", "officer",
              "expert", "analyst", "researcher", "rapporteur", "minister", "president", "chair", "chairman", "chairwoman",
              "member", "journalist", "reporter", "lawyer", "consultant", "founder", "manager", "editor", "secretary",
              "judge", "justice", "prosecutor", "counsel", "attorney", "clerk", "auditor", "commissioner", "ambassador",
              "senator", "governor", "mayor", "chief", "leader", "coordinator", "investigator", "witness", "official",
              "representative", "ceo", "executive", "deputy", "inspector", "general", "presiding", "economist", "scientist",
              "engineer", "doctor", "activist", "historian", "author", "campaigner", "specialist", "partner", "founder")
ORG_WORDS = ("Organisation", "Organization", "Agency", "Committee", "Council", "Commission", "Union", "Fund", "University",
             "Watch", "International", "Service", "Ministry", "Office", "Institute", "Project", "Parliament", "Court",
             "Police", "Guard", "Bank", "Foundation", "Centre", "Center", "Association", "Network", "Collective", "Ltd",
             "Inc", "Group", "Department", "Board", "Authority", "Tribunal", "Company", "Corporation", "Party", "Government",
             "Federation", "Society", "Forum", "Alliance", "Coalition", "Bureau", "Secretariat", "Directorate", "Prosecutor")
_PRONOUNS = {"he": "person", "she": "person", "they": "", "it": "organisation"}
_DEFINITE = re.compile(r"^(?:the|The)\s+(?P<head>(?:[a-z]+\s+){0,2}(?P<noun>[a-z]+))$")


def _trie(words) -> str:
    """A regular expression matching exactly `words` (letters), as a tree of their prefixes: "s(?:a(?:id|ys?)...)".
    An alternation of 70 words is tried word by word at every word boundary; the tree tries a letter or two."""
    words = set(words)
    if not words - {""}:
        return ""
    by: dict[str, list[str]] = {}
    for w in words:
        if w:
            by.setdefault(w[0], []).append(w[1:])
    alts = [re.escape(c) + _trie(rest) for c, rest in sorted(by.items())]
    tree = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    return "(?:" + tree + ")?" if "" in words else tree


# the same words as "|".join(SAY_VERBS): a verb is letters only, so at most one of them is followed by \b at a
# given place, and a match (its span and group) is the same whichever alternative the pattern tries first
_SAY = "(?:" + _trie(SAY_VERBS) + ")"
_CAP = r"[A-ZÀ-ÖØ-Þ][\w’'\-.]*"
_CONNECT = r"(?:of|on|and|&|for|the|de|del|van|von|der|du|la)"
_NAME_RUN = re.compile(rf"{_CAP}(?:\s+(?:{_CONNECT}\s+)*{_CAP})*")
_PERSON_RUN = re.compile(rf"{_CAP}(?:\s+(?:de|van|von|der|du|la|bin|al)?\s*{_CAP}){{0,4}}")
_PERSON_OF = re.compile(rf"({_PERSON_RUN.pattern})\s+(?:of|from|at|for)\s+(?:the\s+)?")
_QUOTE_PAIRS = {"“": "”", '"': '"', "«": "»", "„": "“"}
_OPEN = re.compile("[" + "".join(_QUOTE_PAIRS) + "]")
_CUE = re.compile(rf"[“”\"«»„]|\b{_SAY}\b|\baccording to\b", re.I)
_ORG = re.compile(r"\b(" + "|".join(ORG_WORDS) + r")\b")
_ROLE = re.compile(r"\b(" + _trie(ROLE_WORDS) + r")\b", re.I)  # (only ever asked whether it matches)
_ACRONYM_DEF = re.compile(rf"((?:The\s+|the\s+)?{_CAP}(?:\s+(?:{_CONNECT}\s+)*{_CAP})+)\s+\(([A-Z][A-Z&]{{1,9}})\)")
_STOP = frozenset("""a an the and or but of to in on at for from with by as that this these those it its is are was were be been
has have had he she they his her their them him i we you our also not no so then than which who whom what when where while
there here into about after before over under said says say told tells wrote writes added adds noted notes argued argues
according email interview statement reply letter written dated his""".split())
_NOT_NAMES = frozenset("""The A An In On At For From With By As If But And Or So However Under When While According After Before
This That These Those It He She They We I Nobody Everybody Reporters Another Since Between Of Mr Ms Mrs Dr""".split())
_MONTHS = frozenset("January February March April May June July August September October November December".split())

# The patterns the functions below use, compiled once (a string pattern passed to re.search costs a cache
# lookup per call, and these run tens of thousands of times per corpus).
_SAY_WORD = re.compile(rf"\b{_SAY}\b")
_WORD = re.compile(r"[A-Za-z][\w’'\-]*")
_ACCORDING = re.compile(r"\b(?:[Aa]ccording to|[Ii]n the words of)\s+([^.;:~“”\"]+)")
_AUX_WORDS = ("has", "have", "had", "also", "then", "later", "further")
_VERB = re.compile(rf"\b(?:{_trie(_AUX_WORDS)}\s+)*({_SAY})\b")
_THAT_AFTER = re.compile(r"\s*(?:that\b|[,:]?\s*[“\"~]|\w+\s+as\b)")
_PASSIVE_WORDS = ("been", "was", "were", "is", "are", "be", "being")
_PASSIVE_END = re.compile(rf"\b(?:{'|'.join(_PASSIVE_WORDS)})\s+$")
_AUX_END = re.compile(rf"(?:\b(?:{'|'.join(_AUX_WORDS)})\s*)+$")
_AND_BUT_END = re.compile(r"\b(?:and|but)$")
_CLAUSE_BREAK = re.compile(r"[.;:~“”\"]")
_WHEN_WHERE = re.compile(r"\s+(?:in|on|at|during)\s+(?:an?|the)\s+\w+.*$")
_INDEFINITE = re.compile(r"(?:an?|another)\s", re.IGNORECASE)
_THE_LOWER = re.compile(r"the\s+[a-z]")
_ROLE_NAME_END = re.compile(rf"(?:\b(?:{'|'.join(ROLE_WORDS)})|\bby)\s+{_CAP}(?:\s+{_CAP})+\s*$", re.IGNORECASE)
_THE_START = re.compile(r"^(?:the|The)\s+")
_OF_FROM_AT = re.compile(r"\s+(?:of|from|at)\s+")
_PREP_WORDS = ("in", "at", "of", "from", "to", "on", "into", "across", "near")
_PREP_END = re.compile(rf"\b(?:{'|'.join(_PREP_WORDS)})\s+$")
_LOWER_NEXT = re.compile(r"\s*[a-z]")
_ARTICLE_OR_LOWER = re.compile(r"(?:an?|the|another)\s|[a-z]")
_ARTICLE_OR_LOWER_I = re.compile(r"(?:an?|the|another)\s|[a-z]", re.IGNORECASE)
_ARTICLE_START = re.compile(r"^(?:an?|the|another)\s+", re.IGNORECASE)
_LOWER_WORD = re.compile(rf"\b(?!(?:{_CONNECT}|in|at)\b)[a-z]")
_AT_ORG = re.compile(rf"\s+(?:at|of|for|with|from|in)\s+(?:the\s+)?({_CAP}(?:\s+(?:{_CONNECT}\s+)*{_CAP})*)")
# possessive: a long lowercase token is not tried split into up to five pieces (3.6 s for 120 characters before);
# a run of word characters is followed by a space or the end either way, so what fully matches is the same
_FEW_LOWER_WORDS = re.compile(r"(?:[a-z][\w’'\-]*+\s*){1,5}")
_IN_AT = re.compile(r"\s+(?:in|at|of|for|with|from)\s")
_COMMA_SEMI = re.compile(r"[,;]")
_PAREN_ROLE = re.compile(r"\s*\(([A-Z][\w ’'\-]{1,40})\)")
_ROLE_BEFORE = re.compile(r"((?:[a-z][\w’'\-]*\s+){0,2}(?:" + "|".join(ROLE_WORDS) + r"))\s+$")


def _ends_with_word(s: str, words: tuple[str, ...], pattern: re.Pattern[str]) -> re.Match[str] | None:
    r"""`pattern.search(s)` for a pattern of the form r"...(?:word|word...)\s+$" whose words are `words`. Such a
    search tries every start position of `s`, and it can only match where `s` ends in whitespace and, less
    that whitespace, ends with one of the words: that is checked first (\s and str.isspace are the same)."""
    t = s.rstrip()
    if len(t) == len(s) or not t.endswith(words):
        return None
    return pattern.search(s)


@dataclass
class Quote:
    start: int
    end: int
    kind: str  # "direct" | "reported"
    speaker: str
    speaker_type: str  # "person" | "organisation"
    role: str = ""
    org: str = ""
    cue_start: int = 0  # the sentence that names the speaker (for a continuation: where it was named)
    cue_end: int = 0
    text: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Speaker:
    name: str
    type: str
    role: str = ""
    org: str = ""


@dataclass
class _Doc:
    """What is known about a document's speakers while it is read top to bottom."""

    text: str
    people: dict[str, _Speaker] = field(default_factory=dict)  # full name -> speaker
    surnames: dict[str, str] = field(default_factory=dict)  # last name -> full name
    acronyms: dict[str, str] = field(default_factory=dict)  # "SBC" -> "State Border Committee of the Republic of Belarus"
    last_person: tuple[_Speaker, int, int] | None = None  # the most recent person named, and the sentence naming them
    last_org: tuple[_Speaker, int, int] | None = None
    last_quote: Quote | None = None  # the previous direct quote (for continuations)


@dataclass
class _Attribution:
    speaker: _Speaker
    a: int  # span of the attribution (subject or "according to X" phrase and verb) in the document
    b: int
    cue: tuple[int, int]  # the sentence naming the speaker
    inverted: bool = False  # "“...,” said X": the sentence's content is the quote


def extract_quotes(text: str, language: str = "en") -> list[Quote]:
    """Every direct and reported quotation in `text` with its speaker, in document order."""
    doc = _Doc(text)
    for m in _acronym_defs(text):
        doc.acronyms.setdefault(m.group(2), _strip_the(m.group(1)))
    punkt = within_punkt_budget(text)
    paragraphs = paragraph_spans(text)
    turns = _turns(text, paragraphs)
    out: list[Quote] = []
    for pa, pb in paragraphs:
        if pa in turns:
            out.append(_turn(doc, pa, pb, *turns[pa]))
        elif not _has_cue(text, pa, pb):
            _note_names(doc, pa, pb)
        else:
            out.extend(_paragraph(doc, pa, pb, language, punkt))
    out.sort(key=lambda q: (q.start, q.kind))
    return out


# "(SBC)": every match of _ACRONYM_DEF ends with one; before it, the name and the whitespace run over
# word characters, whitespace, ’'-.& only
_ACRONYM_MARK = re.compile(r"\(([A-Z][A-Z&]{1,9})\)")
_NOT_IN_NAME = re.compile(r"[^\w\s’'\-.&]")


def _acronym_defs(text: str):
    """The matches of `_ACRONYM_DEF.finditer(text)`, found by searching only the stretch of name characters
    before each "(ACRONYM)" (most documents have none, and then nothing is searched). The stretches are
    disjoint and in order, and a match can start nowhere else, so the matches are the same."""
    rev = None
    n = len(text)
    for mark in _ACRONYM_MARK.finditer(text):
        k = mark.start()
        if rev is None:
            rev = text[::-1]
        stop = _NOT_IN_NAME.search(rev, n - k)  # the last character before the mark that no name holds
        m = _ACRONYM_DEF.search(text, n - stop.start() if stop else 0, mark.end())
        if m is not None:
            yield m


_QUOTE_MARK = re.compile(r"[“”\"«»„]")
_CUE_WORDS = re.compile(rf"\b{_SAY}\b|\baccording to\b", re.IGNORECASE)  # _CUE less its quotation marks
_CUE_WORDS_LOWER = re.compile(rf"\b(?:{_SAY}|according to)\b")  # the same on lowercased ASCII text
_WORD_CHAR = re.compile(r"\w")


def _has_cue(text: str, pa: int, pb: int) -> bool:
    r"""`_CUE.search(text, pa, pb) is not None`, cheaper: the quotation marks first, then the words, on
    lowercased text without IGNORECASE where the paragraph is ASCII (lowercasing ASCII keeps every offset and
    what \b sees) and the character before it is not part of a word."""
    if _QUOTE_MARK.search(text, pa, pb):
        return True
    para = text[pa:pb]
    if para.isascii() and (pa == 0 or not _WORD_CHAR.match(text, pa - 1)):
        return _CUE_WORDS_LOWER.search(para.lower()) is not None
    return _CUE_WORDS.search(text, pa, pb) is not None


# --------------------------------------------------------------------------- transcripts: "MR HEDBERG: ..."

# a speaker label opening a paragraph: "THE CHAIR:", "MR HEDBERG:", "Ms Valtonen:", "Judge Sandvik:", "Q:" is not one
_TITLES = r"(?:Mr|Ms|Mrs|Miss|Dr|Prof|Judge|Justice|Senator|Sen|Rep|Chair|Chairman|Chairwoman|Minister|Commissioner)"
_LABEL = re.compile(rf"((?:THE\s+)?[A-Z][A-Z’'\-]+(?:\s+[A-Z][A-Z’'\-]+){{0,3}}|{_TITLES}\.?\s+[A-Z][\w’'\-]+(?:\s+[A-Z][\w’'\-]+)?)"
                    r":[ \t]+(?=\S)")
_MIN_TURNS = 3  # a document is read as a transcript when this many paragraphs open with a speaker label


def _turns(text: str, paragraphs: list[tuple[int, int]]) -> dict[int, tuple[str, int]]:
    """{paragraph start: (label, where its words start)} for the speaker-label paragraphs of a transcript."""
    found = {}
    for pa, pb in paragraphs:
        m = _LABEL.match(text, pa, pb)
        if m and len(m.group(1)) <= 40:
            found[pa] = (m.group(1), m.end())
    return found if len(found) >= _MIN_TURNS else {}


def _turn(doc: _Doc, pa: int, pb: int, label: str, start: int) -> Quote:
    """A transcript turn: the words after the label, said by the labelled speaker."""
    sp = _label_speaker(doc, label)
    return Quote(start, pb, "direct", sp.name, sp.type, sp.role, sp.org, pa, pb, doc.text[start:pb])


def _label_speaker(doc: _Doc, label: str) -> _Speaker:
    """"THE CHAIR" -> the person named with that role; "MR HEDBERG" -> the person of that surname; else the
    label as written ("Mr Hedberg")."""
    words = label.replace(".", "").split()
    if words[0].upper() == "THE":
        found = _definite(doc, " ".join(words[1:]).lower().split()[-1], label.lower())
        if found is not None and found.type == "person":
            return found
        return _Speaker(label.title(), "person", " ".join(words[1:]).title(), "")
    rest = words[1:] if re.fullmatch(_TITLES, words[0].title()) and len(words) > 1 else words
    name = " ".join(w if not w.isupper() else w.title() for w in rest)
    full = doc.surnames.get(name.split()[-1]) if name else None
    if full:
        return doc.people[full]
    return _Speaker(" ".join(w.title() if w.isupper() else w for w in words), "person")


# --------------------------------------------------------------------------- direct quotes: where


def quote_spans(text: str, a: int, b: int) -> list[tuple[int, int, bool]]:
    """(start, end, closed) of the top-level quotations in text[a:b], marks excluded; `closed` is False
    for a quote still open at the paragraph's end (it goes on in the next paragraph)."""
    out: list[tuple[int, int, bool]] = []
    i = a
    while i < b:
        m = _OPEN.search(text, i, b)
        if m is None:
            break
        i = m.start()
        ch = text[i]
        close = _QUOTE_PAIRS[ch]
        if ch == '"' and i > a and text[i - 1].isalnum() and i + 1 < b and text[i + 1].isalnum():
            i += 1
            continue
        j = text.find(close, i + 1, b)
        if ch == "„" and j < 0:
            j = text.find("”", i + 1, b)
        if j < 0:
            out.append((i + 1, b, False))
            break
        out.append((i + 1, j, True))
        i = j + 1
    return [(s, e, c) for s, e, c in (_trim(text, s, e) + (c,) for s, e, c in out) if e > s]


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and (text[b - 1].isspace() or text[b - 1] in "”\""):
        b -= 1
    return a, b


def _masked(text: str, a: int, b: int, spans: list[tuple[int, int, bool]]) -> str:
    """text[a:b] with every quotation's words blanked out (same length, so offsets hold): names and verbs
    inside a quote are not attributions."""
    chars = list(text[a:b])
    for s, e, _ in spans:
        for k in range(max(s, a) - a, min(e, b) - a):
            if not chars[k].isspace():
                chars[k] = "~"
    return "".join(chars)


# --------------------------------------------------------------------------- one paragraph


def _paragraph(doc: _Doc, pa: int, pb: int, language: str, punkt: bool) -> list[Quote]:
    text = doc.text
    spans = quote_spans(text, pa, pb)
    masked = _masked(text, pa, pb, spans)
    sents = _sentences(text, masked, pa, pb, spans, language, punkt)
    out: list[Quote] = []
    attributed: dict[int, _Attribution] = {}
    for sa, sb in sents:
        att = _attribution(doc, masked, pa, sa, sb, spans)
        inside = [s for s in spans if sa <= s[0] < sb]
        if att is not None:
            if _is_reported(masked[sa - pa:sb - pa], att, sa, inside):
                out.append(_quote(doc, sa, sb, "reported", att))
            for s in inside:
                attributed[s[0]] = att
        _note_names(doc, sa, sb, masked[sa - pa:sb - pa])
    out.extend(_direct(doc, pa, spans, attributed, sents, masked))
    return out


def _sentences(text: str, masked: str, pa: int, pb: int, spans, language: str, punkt: bool) -> list[tuple[int, int]]:
    """Sentences of the paragraph, merged so that no quotation is cut in two (a quote of several sentences
    belongs to the sentence that attributes it)."""
    raw = sentence_spans(text, pa, pb, language=language, punkt=punkt)
    merged: list[list[int]] = []
    k = 0  # spans and sentences both run in document order: one pass over each
    for sa, sb in raw:
        while k < len(spans) and spans[k][1] + 2 <= sa:
            k += 1
        if merged and k < len(spans) and spans[k][0] < sa < spans[k][1] + 2 and spans[k][0] < merged[-1][1]:
            merged[-1][1] = sb
        else:
            merged.append([sa, sb])
    return [(a, b) for a, b in merged]


def _direct(doc: _Doc, pa: int, spans, attributed: dict[int, _Attribution], sents, masked: str) -> list[Quote]:
    text = doc.text
    out: list[Quote] = []
    starts = [a for a, _ in sents]
    for s, e, closed in spans:
        words = len(text[s:e].split())
        i = bisect_right(starts, s) - 1
        host = sents[i] if i >= 0 and sents[i][0] <= s < sents[i][1] else (pa, e)
        before = masked[host[0] - pa:s - pa]
        if words < 2 or (before.count("(") > before.count(")") and words < 6):
            continue
        att = attributed.get(s)
        if words < 4 and (att is None or not _SAY_WORD.search(before)):
            continue  # a quoted term or scare quote: "non-refoulement", “cause concern” with no one saying it
        if att is None:
            att = _continuation(doc, host, text[host[0]:host[1]].strip() == text[s - 1:e + 1].strip() or s - 1 == host[0])
        if att is None:
            continue
        q = _quote(doc, s, e, "direct", att)
        out.append(q)
        doc.last_quote = q
    return out


def _continuation(doc: _Doc, host: tuple[int, int], opens: bool) -> _Attribution | None:
    """A quote with no attribution in its sentence: the previous quote's speaker when it goes on from it
    (it opens its sentence and follows within a paragraph or two)."""
    q = doc.last_quote
    if q is None or not opens or host[0] - q.end > 600:
        return None
    between = doc.text[q.end:host[0]]
    if len(between.strip()) > 120:  # someone else's sentence stands between them
        return None
    return _Attribution(_Speaker(q.speaker, q.speaker_type, q.role, q.org), host[0], host[0], (q.cue_start, q.cue_end))


def _quote(doc: _Doc, a: int, b: int, kind: str, att: _Attribution) -> Quote:
    sp = att.speaker
    return Quote(a, b, kind, sp.name, sp.type, sp.role, sp.org, att.cue[0], att.cue[1], doc.text[a:b])


# --------------------------------------------------------------------------- reported speech


def _is_reported(masked_sentence: str, att: _Attribution, sa: int, inside) -> bool:
    """Does the sentence say something in the writer's words beyond the attribution and the quote? (two
    content words outside the quote marks, the speaker's name and apposition, and the verb)"""
    rest = masked_sentence[:att.a - sa] + " " + masked_sentence[att.b - sa:]
    words = [w for w in _WORD.findall(rest) if w.lower() not in _STOP]
    if att.inverted and inside:  # "“...,” said X, adding that ...": only a second statement is reported speech
        return bool(_SAY_WORD.search(rest))
    return len(words) >= 2 or (not inside and len(words) >= 1)


# --------------------------------------------------------------------------- attribution


_MOST_VERBS = 6  # verbs of saying tried per sentence
_MOST_SENTENCE = 1500  # characters of a sentence searched for its attribution (a 10 MB one-line "sentence" stays linear)


def _attribution(doc: _Doc, masked: str, pa: int, sa: int, sb: int, spans) -> _Attribution | None:
    """The speaker a sentence attributes its quote or statement to, if it names one (looked for in the
    sentence's first and last characters only, where attributions stand)."""
    if sb - sa > 2 * _MOST_SENTENCE:
        return _attribution(doc, masked, pa, sa, sa + _MOST_SENTENCE, spans) or \
            _attribution(doc, masked, pa, sb - _MOST_SENTENCE, sb, spans)
    s = masked[sa - pa:sb - pa]
    if "ccording to" in s or "n the words of" in s:  # (what _ACCORDING needs, checked first)
        for m in _ACCORDING.finditer(s):
            att = _according(doc, m, sa, sb)
            if att is not None:
                return att
    for n, m in enumerate(_VERB.finditer(s)):
        if n >= _MOST_VERBS:
            break
        verb = m.group(1)
        after = s[m.end():m.end() + 40]
        if verb in NEEDS_THAT and not _THAT_AFTER.match(after) and verb != "describing":
            continue
        if _ends_with_word(s[:m.start()], _PASSIVE_WORDS, _PASSIVE_END):
            continue  # passive: "has been accused of"
        att = _subject_before(doc, s, m, sa, sb) or _subject_after(doc, s, m, sa, sb)
        if att is not None:
            return att
    return None


def _according(doc: _Doc, m: re.Match, sa: int, sb: int) -> _Attribution | None:
    """"According to UN Special Rapporteur ..., Miklós Haraszti, “...”"; "according to Josephine Liebl, head of
    ..., this practice ..."; "according to the SBC."."""
    segs = m.group(1).split(",")
    used = 0
    for i, seg in enumerate(segs[:3]):
        if _is_apposition(seg.strip()) and i:
            continue
        sp = _speaker_of(doc, seg, " , ".join(x.strip() for x in segs[:i] + segs[i + 1:i + 2]), sa, sb)
        if sp is not None:
            used = i + (2 if i + 1 < len(segs) and _is_apposition(segs[i + 1].strip()) else 1)
            end = m.start(1) + len(",".join(segs[:used]))
            return _Attribution(sp, sa + m.start(), sa + end, (sa, sb))
    return None


def _subject_before(doc: _Doc, s: str, m: re.Match, sa: int, sb: int) -> _Attribution | None:
    """"Joshua Franco, a senior research advisor at Amnesty International, said"; "he wrote"; "The judge added"."""
    head = s[:m.start()]
    left = head.rstrip()
    if left.endswith(_AUX_WORDS):  # (the regex below can only match where the text ends with one of them)
        left = _AUX_END.sub("", left)
    left = left.rstrip().rstrip(",")
    if ("and" in left[-4:] or "but" in left[-4:]) and _AND_BUT_END.search(left):
        # "Amnesty International has accused the government of ..., and noted that": the sentence's subject
        lead = _lead_subject(_CLAUSE_BREAK.split(left)[0])
        sp = _speaker_of(doc, lead, "", sa, sb) if lead else None
        return _Attribution(sp, sa, sa + m.end(), (sa, sb)) if sp else None
    clause = _CLAUSE_BREAK.split(left)[-1]
    segs = [x for x in clause.split(",")]
    if not clause.strip():
        return None
    for i in range(len(segs) - 1, -1, -1):
        seg = segs[i].strip()
        if not seg:
            return None
        if _is_apposition(seg):
            continue
        context = " , ".join(x.strip() for x in segs[:i] + segs[i + 1:])
        named = doc.last_person
        sp = _speaker_of(doc, seg, context, sa, sb)
        if sp is None:
            return None
        cue = named[1:] if seg.lower() in _PRONOUNS and named and named[0] is sp else (sa, sb)
        start = m.start() - (len(head) - len(",".join(segs[:i])) - (len(head) - len(left))) if i else m.start() - len(clause)
        return _Attribution(sp, sa + max(0, start), sa + m.end(), cue)
    return None


def _subject_after(doc: _Doc, s: str, m: re.Match, sa: int, sb: int) -> _Attribution | None:
    """"“...,” said Joshua Franco, a senior research advisor ..."; "“...,” says Peter Danssaert"."""
    before = s[:m.start()].rstrip()  # r"[~,”\"’]\s*$": the last character before trailing whitespace is one of these
    if not before or before[-1] not in '~,”"’':
        return None
    right = s[m.end():]
    body = _CLAUSE_BREAK.split(right)[0]
    segs = body.split(",")
    first = _WHEN_WHERE.sub("", segs[0].strip())
    if not first:
        return None
    app = segs[1].strip() if len(segs) > 1 and _is_apposition(segs[1].strip()) else ""
    named = doc.last_person
    sp = _speaker_of(doc, first, app, sa, sb)
    if sp is None:
        return None
    cue = named[1:] if first.lower() in _PRONOUNS and named and named[0] is sp else (sa, sb)
    end = m.end() + (len(segs[0]) + 1 + len(segs[1]) if app else len(segs[0]))
    return _Attribution(sp, sa + m.start(), sa + end, cue, inverted=True)


def _lead_subject(clause: str) -> str | None:
    """The subject a sentence opens with, after any introductory phrase: "Amnesty International has accused"."""
    m = _NAME_RUN.search(clause)
    if m is None:
        return None
    return m.group(0)


def _is_apposition(seg: str) -> bool:
    """"a spokesman for the SBC", "head of international advocacy at ...", "director general of ...": a
    description of the speaker, not the speaker (unlike "represented by senior prosecutor Jonas Arvid")."""
    if _INDEFINITE.match(seg) or _THE_LOWER.match(seg):
        return True
    if not seg[:1].islower() and not (_ROLE.match(seg) and not _PERSON_RUN.search(seg[seg.find(" ") + 1:] if " " in seg else "")):
        return False
    # "represented by senior prosecutor Jonas Arvid" ends with the speaker: a name right after a role word
    if not _ROLE.search(seg):
        return False
    tail = _ROLE_NAME_END.search(seg)
    return not (tail and not _is_org(tail.group(0)))


def _strip_the(s: str) -> str:
    s = s.strip()
    return _THE_START.sub("", s) if s.startswith(("the", "The")) else s


# --------------------------------------------------------------------------- who a phrase names


_LOWER_ROLE = re.compile(r"((?:\b[a-z][\w’'\-]*\s+){0,3}?\b(?:" + "|".join(ROLE_WORDS) + r"))\s+(?=[A-ZÀ-ÖØ-Þ])", re.I)
_ORG_AFTER = re.compile(rf"\s+(?:of|from|at|for|with)\s+(?:the\s+)?(?:[a-z][\w’'\-]*\s+){{0,5}}?({_CAP}(?:\s+(?:{_CONNECT}\s+)*{_CAP})*)")


def _speaker_of(doc: _Doc, seg: str, context: str, sa: int, sb: int) -> _Speaker | None:
    """The speaker a subject phrase names ("he", "The judge", "Franco of Amnesty International",
    "Presiding Judge Elin Sandvik", "the SBC"), with role and organisation from `context` (the apposition)."""
    seg = seg.strip().strip("~").strip()
    low = seg.lower()
    if low in _PRONOUNS:
        return _pronoun(doc, low)
    d = _DEFINITE.match(seg)
    if d:
        return _definite(doc, d.group("noun"), seg)
    org = ""
    lead = _PERSON_RUN.match(seg)
    m = _OF_FROM_AT.match(seg, lead.end()) if lead else None
    if m and _NAME_RUN.search(seg, m.end()):
        # "Franco of Amnesty International", "Jon Hawkes from the British defense research agency Jane’s"
        org = _strip_the([r.group(0) for r in _NAME_RUN.finditer(seg, m.end())][-1])
        seg = seg[:lead.end()]
    role, name = _split_title(seg)
    if not name:
        return None
    if name in doc.acronyms:
        return _Speaker(doc.acronyms[name], "organisation", "", name)
    if _is_org(name):
        return _Speaker(name, "organisation", "", name)
    sp = _person(doc, name)
    if sp is None:
        return None
    app_role, app_org = _apposition(context)
    sp.role = sp.role or role or app_role
    sp.org = sp.org or org or app_org
    doc.last_person = (sp, sa, sb)
    return sp


def _split_title(seg: str) -> tuple[str, str]:
    """("Presiding Judge", "Elin Sandvik") from "Presiding Judge Elin Sandvik"; ("senior prosecutor", "Jonas
    Arvid") from "represented by senior prosecutor Jonas Arvid"; ("", "") when no name is there."""
    role = ""
    lr = None
    if _ROLE.search(seg):
        for lr in _LOWER_ROLE.finditer(seg):
            pass
    if lr is not None and seg[lr.end():lr.end() + 1].isupper():
        role = _role_words(lr.group(1))
    runs = [r for r in _NAME_RUN.finditer(seg)]
    if not runs:
        return role, ""
    name = _strip_the(runs[-1].group(0)).rstrip(".")
    if _ends_with_word(seg[:runs[-1].start()], _PREP_WORDS, _PREP_END):
        return role, ""  # a place or a body after a preposition: "... on Human Rights in Belarus"
    if _LOWER_NEXT.match(seg, runs[-1].end()):
        return role, ""  # the phrase's head is a common noun: "Human rights advocates", "Belarusian officials"
    toks = name.split()
    lead = []
    while len(toks) > 1 and (_ROLE.fullmatch(toks[0]) or toks[0] in ("Mr", "Ms", "Mrs", "Dr", "Sir", "Dame")) and not _is_org(name):
        lead.append(toks.pop(0))
    while toks and toks[0] in _NOT_NAMES:
        toks.pop(0)
    if not toks or toks[0] in _MONTHS:
        return role, ""
    return (" ".join(lead) or role).strip(), " ".join(toks)


_ORG_SET = frozenset(ORG_WORDS)


_IS_ORG: dict[str, bool] = {}  # name -> _is_org(name): the same few names are asked about again and again


def _is_org(name: str) -> bool:
    found = _IS_ORG.get(name)
    if found is None:
        toks = [t.strip(".,’'") for t in name.split()]
        found = any(t in _ORG_SET or (t.isupper() and len(t) > 1) for t in toks) or "&" in name
        if len(_IS_ORG) >= 20_000:
            _IS_ORG.clear()
        _IS_ORG[name] = found
    return found


def _person(doc: _Doc, name: str) -> _Speaker | None:
    toks = name.split()
    if len(toks) == 1:
        full = doc.surnames.get(name)
        if full:
            return doc.people[full]
        if name in _NOT_NAMES or name in _MONTHS:
            return None
        # a lone name no person was introduced by: an organisation speaking as a body ("Greenpeace has warned")
        return _Speaker(name, "organisation", "", name)
    if name not in doc.people:
        doc.people[name] = _Speaker(name, "person")
        doc.surnames[toks[-1]] = name
    return doc.people[name]


def _pronoun(doc: _Doc, low: str) -> _Speaker | None:
    if low in ("he", "she"):
        return doc.last_person[0] if doc.last_person else None
    if low == "they":
        return doc.last_org[0] if doc.last_org else None
    return None


def _definite(doc: _Doc, noun: str, seg: str) -> _Speaker | None:
    """"the judge" -> the last person named with that role; "the court", "the ministry" -> the last organisation
    whose name holds that word (or the phrase itself)."""
    if _ROLE.fullmatch(noun):
        for sp in reversed(list(doc.people.values())):
            if noun in sp.role.lower():
                return sp
        return None
    if noun.capitalize() in ORG_WORDS:
        if doc.last_org and noun in doc.last_org[0].name.lower():
            return doc.last_org[0]
        return _Speaker(seg[0].lower() + seg[1:], "organisation")
    return None


def _apposition(context: str) -> tuple[str, str]:
    """(role, organisation) from "a senior research advisor at Amnesty International focusing on ...",
    "head of international advocacy at the European Council on Refugees and Exiles", "UN Special Rapporteur ..."."""
    for seg in (s.strip() for s in context.split(" , ")):
        if not seg or not (_ROLE.search(seg) or (_ARTICLE_OR_LOWER_I if seg[:1].isupper() else _ARTICLE_OR_LOWER).match(seg)):
            continue
        indefinite = bool(_INDEFINITE.match(seg))
        seg = _ARTICLE_START.sub("", seg)
        if not _LOWER_WORD.search(seg):  # a title: "UN Special Rapporteur on Human Rights in Belarus"
            first = seg.split()[0]
            return seg, first if first.isupper() and len(first) > 1 else ""
        m = _AT_ORG.search(seg)
        if m and (_ROLE.search(seg[:m.start()]) or indefinite or _FEW_LOWER_WORDS.fullmatch(seg[:m.start()])):
            return seg[:m.start()], m.group(1)
        m = _IN_AT.search(seg)
        if indefinite and m:  # "a port engineer in Skarva"
            return seg[:m.start()], ""
        if _ROLE.search(seg) and len(seg.split()) <= 8:
            return seg, ""
    return "", ""


def _note_names(doc: _Doc, a: int, b: int, masked: str | None = None) -> None:
    """Remember the people and organisations a sentence names (for "he said" and surnames later)."""
    s = masked if masked is not None else doc.text[a:b]
    for run in _NAME_RUN.finditer(s):
        words = run.group(0)
        if " " not in words and words not in doc.surnames and not _is_org(words):
            continue  # one capitalised word nobody was named by: a sentence's first word, a place
        split = _PERSON_OF.match(words)
        if split and not _is_org(split.group(1)):
            _note_person(doc, s, run.start(), run.start() + split.end(1), a, b)
        elif _is_org(words):
            name = _strip_the(words)
            doc.last_org = (_Speaker(doc.acronyms.get(name, name), "organisation", "", name), a, b)
        else:
            for m in _PERSON_RUN.finditer(s, run.start(), run.end()):
                _note_person(doc, s, m.start(), m.end(), a, b)


def _note_person(doc: _Doc, s: str, i: int, j: int, a: int, b: int) -> None:
    role, name = _split_title(s[i:j])
    if not name or (len(name.split()) < 2 and name not in doc.surnames):
        return
    sp = _person(doc, name)
    if sp is None:
        return
    after = s[j:j + 200]
    if after.startswith(","):
        r, o = _apposition(_COMMA_SEMI.split(after[1:])[0].strip())
        sp.role, sp.org = sp.role or r, sp.org or o
    paren = _PAREN_ROLE.match(after)
    if paren and _ROLE.search(paren.group(1)):  # "Hanna Vik (Chair)"
        sp.role = sp.role or paren.group(1)
    lr = _ends_with_word(s[max(0, i - 40):i], ROLE_WORDS, _ROLE_BEFORE)
    sp.role = sp.role or role or (_role_words(lr.group(1)) if lr else "")
    doc.last_person = (sp, a, b)


def _role_words(phrase: str) -> str:
    """"senior auditor" from "by senior auditor", "led by senior auditor", "represented by senior prosecutor"."""
    words = phrase.split()
    while words and (words[0].lower() in _STOP or words[0].lower().endswith("ed")):
        words.pop(0)
    return " ".join(words)
