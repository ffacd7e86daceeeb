"""The root settings object: one typed tree combining each package's section.

Environment variables use the prefix `DOSSIER_` and `__` between nested names, e.g.
`DOSSIER_DATA_DIR`, `DOSSIER_CHROMA_URL`, `DOSSIER_INDEX__EMBED_BATCH_SIZE`, `DOSSIER_LLM__BASE_URL`.
Settings are passed as arguments; nothing reads a global.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from dossier.index.settings import IndexSettings
from dossier.ingest.settings import IngestSettings


class AnswerSettings(BaseModel):
    engine: str = Field("extractive", description="Default answer engine: 'extractive' (offline, learned), 'rules' (the former rule-based extractive engine) or 'llm'.")
    k: int = Field(6, ge=1, le=50, description="Passages retrieved for an answer.")
    strict: bool = Field(False, description="Drop answer sentences the verifier marks unsupported; abstain if none survive.")
    render_foreign_quotes: bool = Field(True, description="With the llm engine, add an English rendering of each quote not in "
                                        "English, marked as machine translation beside the untouched quote (one more model call per quote).")
    max_sentences: int = Field(3, ge=1, le=12, description="Most sentences in an extractive answer to a factoid question.")
    max_sentences_why: int = Field(5, ge=1, le=20, description="Most sentences for why/what-concerns questions.")
    min_relevance: float = Field(0.35, ge=0, le=1, description="Least question-sentence relevance a 'rules' engine answer sentence needs.")
    reader_dir: Optional[Path] = Field(None, description="Folder of the answer-sentence scorer and its abstention model (default: the committed app/models/reader).")
    abstain_threshold: Optional[float] = Field(None, ge=0, le=1, description="Confidence under which the extractive engine abstains (default: the threshold fitted on SQuAD dev articles, in abstain.json).")
    support_threshold: float = Field(0.72, ge=0, le=1, description="Verifier score at or above which a sentence is 'supported' (fitted by `dossier eval calibrate`).")
    partial_threshold: float = Field(0.4, ge=0, le=1, description="Verifier score at or above which a sentence is 'partial'.")


class LLMSettings(BaseModel):
    provider: str = Field("openai-like", description="'openai-like' (OpenAI, vLLM, llama.cpp server, LM Studio), 'ollama', or 'llama-cpp' (local GGUF).")
    model: str = Field("smollm2", description="Model name sent to the endpoint (or GGUF path for llama-cpp).")
    base_url: str = Field("http://127.0.0.1:8080/v1", description="OpenAI-compatible base URL (or Ollama URL).")
    api_key_env: str = Field("DOSSIER_LLM_API_KEY", description="Name of the environment variable holding the API key (the key itself is never stored).")
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature.")
    max_tokens: int = Field(384, ge=16, le=8192, description="Most tokens generated per answer.")
    timeout_s: float = Field(60.0, gt=0, description="Request timeout in seconds.")
    fallback_to_extractive: bool = Field(False, description="When the LLM fails, answer with the extractive engine and say so.")


class ServeSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Address the app binds to.")
    port: int = Field(7860, ge=1, le=65535, description="Port the app listens on.")
    max_upload_mb: float = Field(50.0, gt=0, description="Largest file accepted by upload.")
    max_files_per_request: int = Field(20, ge=1, le=1000, description="Most files one Library upload may carry.")
    max_request_mb: float = Field(200.0, gt=0, description="Most megabytes of files one Library upload may carry.")
    max_urls_per_request: int = Field(20, ge=1, le=1000, description="Most URLs one Library request may ingest.")


class CheckSettings(BaseModel):
    k: int = Field(6, ge=1, le=50, description="Passages retrieved for each draft sentence.")
    lexical_extra: int = Field(3, ge=0, le=50, description="Passages added from the keyword (BM25) ranking alone, for sentences the fused ranking places low.")
    candidates: int = Field(8, ge=1, le=100, description="Source sentences compared with each draft sentence (those sharing most of its content words).")
    max_sentences: int = Field(2000, ge=1, description="Most sentences a draft may have; a longer one is refused (exit status 2).")
    read_own: float = Field(0.15, ge=0, le=1, description="Least share of the draft sentence's content words a source sentence must hold to be scored by the answer cross-encoder and clause by clause (others get the floor logit; a speed-up)...")
    read_top: int = Field(2, ge=1, le=100, description="...and at most this many of them (most content words first).")
    model_path: Optional[Path] = Field(None, description="The verdict model (JSON written by `dossier eval fit-check`); default: the bundled app/models/check-verdict.json, or check-verdict-nli.json with `entailment` on.")
    entailment: bool = Field(False, description="Also read the entailment model (app/models/nli) through the verdict fitted with it (app/models/check-verdict-nli.json). Off by default: its training data include SICK, licensed CC BY-NC-SA 3.0 (non-commercial), and on the blind check-heldout7 it scored as the default verdict did (3-way 0.561 both), at about 1.4 s more per fresh process.")
    nli_dir: Optional[Path] = Field(None, description="The entailment model's folder (int8 ONNX, written by `dossier eval train-nli`); default: the bundled app/models/nli.")


class DossierSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOSSIER_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the catalog, Chroma store, BM25 index and URL archive live.")
    chroma_url: str = Field("", description="URL of a `chroma run` server (e.g. http://127.0.0.1:8000); empty: embedded Chroma in the data dir.")
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    check: CheckSettings = Field(default_factory=CheckSettings)
