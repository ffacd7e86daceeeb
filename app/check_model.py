"""The draft checker's learned verdict: three small logistic regressions over a source sentence's signals,
fitted by `dossier eval fit-check` on the labelled check sets (`eval/fit_check.py`), weights in
`app/models/check-verdict.json`.

- match: is this source sentence the one that states the draft sentence's fact (the same fact, or the same
  fact with one slot changed)? Over the reader cross-encoder's logit for (draft sentence, source sentence),
  embedding similarity (whole sentence and best clause) and content-word coverage (sentence, window,
  slot values left out).
- support: is the draft sentence supported, given the closest source sentence that states all its slots
  (no conflict, nothing missing, no neighbour with the opposite polarity)?
- contradict: is it contradicted, given the closest source sentence whose slots conflict with it?

A verdict needs its probability at or over the fitted threshold; supported also needs to beat contradicted.
Pure Python at run time (the weights are a few numbers): no scikit-learn.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

MODEL_PATH = Path(__file__).parent / "models" / "check-verdict.json"
# the verdict that also reads the entailment model (app/models/nli), used with `check.entailment` on: opt-in, since that
# model's training data include SICK (CC BY-NC-SA 3.0, non-commercial) and it showed no gain on the blind check-heldout7
NLI_MODEL_PATH = Path(__file__).parent / "models" / "check-verdict-nli.json"
NLI_FEATURES = frozenset({"entail", "contra", "entail_s", "entail_w", "contra_s", "contra_w"})
# every signal the checker computes for a candidate (app/check.py _Judged.features(), plus the match probability):
# a verdict file naming anything else was not fitted for this checker
FEATURES = frozenset({"reader", "similarity", "clause", "own", "topical", "coverage", "match"}) | NLI_FEATURES


@dataclass(frozen=True)
class Logistic:
    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]

    def prob(self, x: dict[str, float]) -> float:
        z = self.bias + sum(w * (x[f] - m) / s for f, w, m, s in zip(self.features, self.weights, self.mean, self.scale))
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    def to_dict(self) -> dict:
        return {"features": list(self.features), "weights": list(self.weights), "bias": self.bias,
                "mean": list(self.mean), "scale": list(self.scale)}

    @classmethod
    def from_dict(cls, d: dict) -> "Logistic":
        lg = cls(tuple(d["features"]), tuple(float(w) for w in d["weights"]), float(d["bias"]),
                 tuple(float(v) for v in d["mean"]), tuple(float(v) for v in d["scale"]))
        unknown = sorted(set(lg.features) - FEATURES)
        if unknown:
            raise ValueError(f"unknown feature(s) {', '.join(unknown)}")
        if not len(lg.features) == len(lg.weights) == len(lg.mean) == len(lg.scale):
            raise ValueError(f"{len(lg.features)} features but {len(lg.weights)} weights, {len(lg.mean)} means, {len(lg.scale)} scales")
        if any(not v > 0 for v in lg.scale):
            raise ValueError("a feature scale is not positive")
        return lg


@dataclass(frozen=True)
class VerdictModel:
    match: Logistic
    support: Logistic
    contradict: Logistic
    support_threshold: float
    contradict_threshold: float
    fitted_on: str = ""

    def to_dict(self) -> dict:
        return {"match": self.match.to_dict(), "support": self.support.to_dict(), "contradict": self.contradict.to_dict(),
                "support_threshold": self.support_threshold, "contradict_threshold": self.contradict_threshold,
                "fitted_on": self.fitted_on}

    @property
    def reads_nli(self) -> bool:
        """Whether the support or contradict regression reads the entailment model's probabilities."""
        return any(f in NLI_FEATURES for f in self.support.features + self.contradict.features + self.match.features)

    @classmethod
    def from_dict(cls, d: dict) -> "VerdictModel":
        parts = {}
        for name in ("match", "support", "contradict"):
            try:
                parts[name] = Logistic.from_dict(d[name])
                if name == "match" and NLI_FEATURES & set(parts[name].features):  # match is computed before they are read
                    raise ValueError("reads entailment features, which the checker gives only to support and contradict")
            except ValueError as e:
                raise ValueError(f"{name!r}: {e}") from None
        return cls(parts["match"], parts["support"], parts["contradict"],
                   float(d["support_threshold"]), float(d["contradict_threshold"]), str(d.get("fitted_on", "")))

    @classmethod
    def load(cls, path: Path | None = None) -> "VerdictModel":
        p = Path(path or MODEL_PATH)
        try:
            return cls.from_dict(json.loads(p.read_text()))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise RuntimeError(f"{p}: the draft checker's verdict model is unreadable ({e})") from None

    def save(self, path: Path, extra: dict | None = None) -> None:
        Path(path).write_text(json.dumps({**self.to_dict(), **(extra or {})}, indent=1) + "\n")
