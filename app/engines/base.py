"""The engine interface. An engine turns (question, retrieved passages) into a Draft; the pipeline
(`app.answering`) does retrieval, verification, citation repair and the Answer JSON."""
from __future__ import annotations

from typing import Iterator, Protocol

from dossier.index.retrieval import Hit

from ..answer_models import Draft, Turn


class EngineError(Exception):
    """The engine could not answer (endpoint down, timeout, garbage); one clear line for the user."""


class Engine(Protocol):
    name: str

    def condense(self, question: str, history: list[Turn]) -> str:
        """Rewrite a follow-up ("and who supplied them?") into a standalone question."""
        ...

    def draft(self, question: str, passages: list[Hit]) -> Draft:
        """Answer from the numbered passages (passage i is passages[i-1])."""
        ...

    def draft_stream(self, question: str, passages: list[Hit]) -> Iterator[str | Draft]:
        """Yield text pieces as they are generated, then the final Draft as the last item."""
        ...
