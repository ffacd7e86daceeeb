"""Text helpers in one place: normalisation for comparisons, content-word stems, numbers and names.

Two families, on purpose:
* `fold`, `content_stems`, `numbers`, `names`, `name_tokens`: what the engines and the verifier compare
  (numbers as values, "2 million" == 2e6; names with honorifics and sentence-initial words dropped).
* `unify`, `number_tokens`, `name_runs`: the literal, documented rules of the evaluation's entity check
  (`dossier.eval.metrics.extract_entities`), which grades the verifier and so does not share its rules.
"""
from __future__ import annotations

import functools
import re
import unicodedata

_WORD = re.compile(r"[^\W_]+(?:[’'][^\W_]+)?", re.UNICODE)
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:[,\u00a0\u202f\u2009]\d{3})+|\d+(?:\.\d+)?)(?:\s*(million|billion|thousand|m|bn|k)\b)?", re.I)
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                 "ten": 10, "eleven": 11, "twelve": 12, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
                 "hundred": 100, "dozen": 12}
_MULT = {"million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "thousand": 1e3, "k": 1e3}
NEGATIONS = {"not", "no", "never", "none", "neither", "nor", "without", "n't", "cannot", "nothing", "lacks", "lack"}

STOPWORDS = frozenset("""a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not of off on
once only or other our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what when where which
while who whom whose why will with would you your yours yourself yourselves s t don isn wasn weren didn doesn said says say
according also its it’s""".split())


def fold(text: str) -> str:
    """Lowercase, NFKC, curly quotes and dashes made plain: for comparisons, never for display."""
    t = unicodedata.normalize("NFKC", text).lower()
    return t.translate(str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "}))


@functools.lru_cache(maxsize=1)
def _stemmer():
    from nltk.stem import PorterStemmer

    return PorterStemmer()


@functools.lru_cache(maxsize=50000)
def stem(word: str) -> str:
    return _stemmer().stem(word)


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(fold(text))]


def content_stems(text: str) -> list[str]:
    """Stems of content words (no stopwords, no 1-letter words), in order, with repeats."""
    out = []
    for w in words(text):
        w = w.replace("'s", "").replace("'", "")
        if len(w) > 1 and w not in STOPWORDS:
            out.append(stem(w))
    return out


def numbers(text: str) -> set[float]:
    """Numeric values mentioned: '380,900' -> 380900, '2 million' -> 2e6, '110' -> 110, 'two' -> 2."""
    vals: set[float] = set()
    for m in _NUMBER.finditer(text):
        raw = re.sub(r"[,\u00a0\u202f\u2009]", "", m.group(1))
        try:
            v = float(raw)
        except ValueError:
            continue
        if m.group(2):
            v *= _MULT[m.group(2).lower()]
        vals.add(v)
    for w in words(text):
        if w in _NUMBER_WORDS:
            vals.add(float(_NUMBER_WORDS[w]))
    return vals


_CAP = re.compile(r"\b([A-Z][\w’'\-]*(?:\s+(?:of|for|the|de|van|von|and|on|(?:of|for|the|de|van|von|and|&))?\s*[A-Z][\w’'\-]*)*)")
NOT_NAMES = frozenset("""The A An And But In On At Of For To By With From As This That These Those It Its He She They We I
If When While Where Which Who Whom Whose What Why How However According After Before During Since Until Although Because
Many Most Some Several Such Other Another Each Every Both Also Then There Here Our Their His Her My Your Yes No Not
Mr Ms Mrs Dr Read More Recent Subscribe Credit""".split())


def names(text: str) -> set[str]:
    """Capitalized word runs that look like names (sentence-initial function words removed)."""
    out: set[str] = set()
    for m in _CAP.finditer(text):
        parts = m.group(1).replace("’s", "").replace("'s", "").split()
        while parts and parts[0] in NOT_NAMES:
            parts = parts[1:]
        while parts and parts[-1].lower() in ("of", "for", "the", "de", "and", "on", "&"):
            parts = parts[:-1]
        if parts:
            out.add(" ".join(parts))
    return out


def name_tokens(text: str) -> set[str]:
    return {fold(t) for n in names(text) for t in n.split() if len(t) > 1 and t.lower() not in STOPWORDS}


def has_negation(text: str) -> bool:
    f = fold(text)
    return bool(set(words(f)) & NEGATIONS) or "n't" in f


# --------------------------------------------------------------------------- literal entities (eval)

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")
_QUOTES = {
    **dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032\u2035\u00b4\u0060"), "'"),
    **dict.fromkeys(map(ord, "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb"), '"'),
}
# A thousands separator: comma, (narrow) no-break space or thin space between a digit and a
# group of exactly three digits.  A plain space or a dot is NOT treated as one (ambiguous).
_THOUSANDS = re.compile(r"(?<=\d)[,\u00a0\u202f\u2009](?=\d{3}(?!\d))")


def unify(text: str) -> str:
    """Unicode dashes -> '-', curly quotes -> straight quotes, thousands separators removed."""
    text = text.translate(_DASHES).translate(_QUOTES)
    return _THOUSANDS.sub("", text)


# Numbers: digit runs with optional decimal/thousands parts ("2,000,000", "1.5", "2014").
NUMBER_TOKEN = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
# Words: letters/digits, possibly joined by apostrophes ("O'Brien"); hyphens split words
# ("Rosneft-owned" -> "Rosneft", "owned").  A word is capitalized when its first character
# is an uppercase letter (any script).  A name is a maximal run of capitalized words
# separated by single spaces ("European Union"); a possessive "'s" is dropped and ends the run.
_NAME_WORD = re.compile(r"\w+(?:'\w+)*")


def number_tokens(text: str) -> list[str]:
    """Number tokens as written ("1.5", "2014", "2,000" unless `unify` removed the comma first), in order."""
    return [m.group(0) for m in NUMBER_TOKEN.finditer(text)]


def name_runs(text: str) -> list[list[str]]:
    """Maximal runs of capitalized words separated by single spaces, each run a list of words."""
    runs: list[list[str]] = []
    prev_end = -2
    for m in _NAME_WORD.finditer(text):
        word = m.group(0)
        possessive = word.endswith(("'s", "'S"))
        if possessive:
            word = word[:-2]
        if not word[0].isupper():
            prev_end = -2
            continue
        if runs and prev_end == m.start() - 1 and text[prev_end] == " ":
            runs[-1].append(word)
        else:
            runs.append([word])
        prev_end = -2 if possessive else m.end()
    return runs
