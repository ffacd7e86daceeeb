"""Builds the objects a command needs from settings, lazily, once per process."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from .settings import DossierSettings



@dataclass
class AppContext:
    settings: DossierSettings

    @functools.cached_property
    def index(self):
        from dossier.index.service import IndexService

        s = self.settings
        return IndexService(s.data_dir, s.index, s.ingest, chroma_url=s.chroma_url or None)


@functools.lru_cache(maxsize=2)
def answer_scorer(model_dir=None):
    """The answer-sentence scorer, loaded once per process (its ONNX session is shared by every answerer)."""
    from .reader import AnswerScorer

    return AnswerScorer(model_dir)


@functools.lru_cache(maxsize=2)
def nli_scorer(model_dir=None):
    """The draft checker's entailment model, loaded once per process."""
    from .nli import NliScorer

    return NliScorer(model_dir)


def extractive_engine(answer):
    """The learned extractive engine configured by `answer` (AnswerSettings), sharing the process's scorer."""
    from .engines.extractive import ExtractiveEngine
    from .reader import AbstainModel

    return ExtractiveEngine(answer_scorer(answer.reader_dir), AbstainModel.load(answer.reader_dir / "abstain.json" if answer.reader_dir else None),
                            max_sentences=answer.max_sentences, max_sentences_why=answer.max_sentences_why,
                            threshold=answer.abstain_threshold)


def build_answerer(app: AppContext):
    """The answer pipeline with both engines (the llm engine is built only when first used)."""
    from .answering import Answerer
    from .verify import Verifier

    s = app.settings
    svc = app.index
    embed = svc.embedder.embed

    def extractive():
        from .engines.crosslingual import cross_engine  # #16: other languages; English pairs go to the engine as before

        return cross_engine(extractive_engine(s.answer), s.index)

    def rules():
        from .engines.rules import RulesEngine

        return RulesEngine(embed, max_sentences=s.answer.max_sentences, max_sentences_why=s.answer.max_sentences_why,
                           min_relevance=s.answer.min_relevance, doc_text=svc.catalog.doc_text)

    def llm():
        from .engines.llm import LLMEngine

        return LLMEngine(s.llm)

    verifier = Verifier(embed, s.answer.support_threshold, s.answer.partial_threshold)
    return Answerer(svc.retriever, s.answer, {"extractive": extractive, "rules": rules, "llm": llm}, verifier,
                    fallback_to_extractive=s.llm.fallback_to_extractive)
