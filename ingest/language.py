"""Language detection (ISO 639-1) with langdetect, seeded so the answer is repeatable."""
from __future__ import annotations

from functools import lru_cache

from langdetect import DetectorFactory, PROFILES_DIRECTORY
from langdetect.lang_detect_exception import LangDetectException

_SAMPLE_CHARS = 5000


@lru_cache(maxsize=1)
def _factory() -> DetectorFactory:
    """A private, seeded detector factory (langdetect's module-level one is left untouched)."""
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = 0
    return factory


def detect_language(text: str) -> str:
    """ISO 639-1 code of `text` judged on its first ~5000 characters ("" when undecidable)."""
    sample = text[:_SAMPLE_CHARS].strip()
    if not sample:
        return ""
    try:
        detector = _factory().create()
        detector.append(sample)
        code = detector.detect()
    except LangDetectException:
        return ""
    # langdetect reports a few languages with a region ("zh-cn", "zh-tw"); keep the language.
    return "" if code == "unknown" else code.split("-")[0]
