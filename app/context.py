"""Builds the objects a command needs from settings, lazily, once per process."""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass

from .settings import DossierSettings

# Offline and quiet everywhere: no hub downloads, no telemetry.
for _k, _v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
               "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False", "TOKENIZERS_PARALLELISM": "false",
               "DO_NOT_TRACK": "1"}.items():
    os.environ.setdefault(_k, _v)


@dataclass
class AppContext:
    settings: DossierSettings

    @functools.cached_property
    def index(self):
        from dossier.index.service import IndexService

        s = self.settings
        return IndexService(s.data_dir, s.index, s.ingest, chroma_url=s.chroma_url or None)


def build_answerer(app: AppContext):
    """The answer pipeline with both engines (the llm engine is built only when first used)."""
    from .answering import Answerer
    from .engines.extractive import ExtractiveEngine
    from .verify import Verifier

    s = app.settings
    svc = app.index
    embed = svc.embedder.embed

    def extractive():
        return ExtractiveEngine(embed, max_sentences=s.answer.max_sentences, max_sentences_why=s.answer.max_sentences_why,
                                min_relevance=s.answer.min_relevance, doc_text=svc.catalog.doc_text)

    def llm():
        from .engines.llm import LLMEngine

        return LLMEngine(s.llm)

    verifier = Verifier(embed, s.answer.support_threshold, s.answer.partial_threshold)
    return Answerer(svc.retriever, s.answer, {"extractive": extractive, "llm": llm}, verifier,
                    fallback_to_extractive=s.llm.fallback_to_extractive)
