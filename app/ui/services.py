"""What the UI callbacks share: the app context, one answerer, a write lock, and the paths they use."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dossier.app.context import AppContext, build_answerer


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


@dataclass
class UIServices:
    ctx: AppContext
    answerer: Any = None
    # ingest and remove run one at a time; questions keep being answered meanwhile (the catalog switches
    # documents atomically and retrieval ignores vectors the catalog does not know)
    write_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.answerer is None:
            self.answerer = build_answerer(self.ctx)

    @property
    def settings(self):
        return self.ctx.settings

    @property
    def index(self):
        return self.ctx.index

    @property
    def catalog(self):
        return self.ctx.index.catalog

    @property
    def data_dir(self) -> Path:
        return Path(self.ctx.settings.data_dir)

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def labels_path(self) -> Path:
        return self.data_dir / "grading" / "labels.jsonl"

    @property
    def seed_dev_path(self) -> Path | None:
        """eval/datasets/seed-dev.jsonl of the checkout (or the working directory), when present."""
        for base in (_repo_root(), Path.cwd()):
            p = base / "eval" / "datasets" / "seed-dev.jsonl"
            if p.is_file():
                return p
        return None

    def docs_by_id(self) -> dict[str, dict]:
        return {d["doc_id"]: d for d in self.catalog.documents()}

    def chunk_starts(self, chunk_ids: list[str]) -> dict[str, int]:
        return {cid: c.start for cid, c in self.catalog.get_chunks(list(dict.fromkeys(chunk_ids))).items()}
