"""Process-wide settings, applied once by each entry point (the `dossier` CLI, `python -m` probes, the test
session), never by importing a module: no model hub downloads, no telemetry from Hugging Face, Gradio or
Chroma (whose client is also built with `anonymized_telemetry=False`), no tokenizer thread pools."""
from __future__ import annotations

import os

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
               "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False", "TOKENIZERS_PARALLELISM": "false",
               "DO_NOT_TRACK": "1"}


def apply_process_settings(env: dict | None = None) -> None:
    """Set the offline and no-telemetry variables where the environment does not set them already."""
    target = os.environ if env is None else env
    for k, v in OFFLINE_ENV.items():
        target.setdefault(k, v)
