"""English renderings of foreign quotes (#16), for the llm engine only: when an answer cites a passage in another
language, the configured chat model is asked for an English rendering of each such quote. The rendering is
stored beside the quote (`Citation.translation`, with `translation_note` saying it is machine translation and by
which model), shown under it and exported as such; the quote itself, its offsets and the verification are never
changed by it. A failed or empty rendering is left out (the quote stands alone)."""
from __future__ import annotations

from dossier.ingest.language import language_name

from .answer_models import Answer

MAX_QUOTE_CHARS = 1200  # a longer quote is not sent (the rendering would run past the model's answer length)
MAX_RENDERING_CHARS = 2000


def foreign(answer: Answer) -> bool:
    return any(c.language and c.language != "en" for c in answer.citations)


def add_renderings(answer: Answer, engine) -> int:
    """Fill `translation` for each foreign quote of `answer` (each distinct quote once); returns how many."""
    done: dict[str, str] = {}
    for c in answer.citations:
        if not c.language or c.language == "en" or not c.quote.strip() or len(c.quote) > MAX_QUOTE_CHARS:
            continue
        if c.quote not in done:
            try:
                text = (engine.render_in_english(c.quote, language_name(c.language)) or "").strip()
            except Exception:  # an endpoint error costs the rendering, never the answer
                text = ""
            done[c.quote] = text[:MAX_RENDERING_CHARS]
        if done[c.quote]:
            c.translation = done[c.quote]
            c.translation_note = f"machine translation from {language_name(c.language)} by {engine.endpoint}; not the source's words"
    return sum(1 for c in answer.citations if c.translation)
