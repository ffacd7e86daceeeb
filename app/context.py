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
        from index.service import IndexService

        s = self.settings
        return IndexService(s.data_dir, s.index, s.ingest, chroma_url=s.chroma_url or None)
