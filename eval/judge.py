"""Optional LLM judge: decompose each answer into claims, then ask for a verdict on every claim against
the passages the answer cites.

- Any OpenAI-compatible endpoint through llama-index's `OpenAILike`, built here and passed explicitly
  (never the global `Settings`); temperature 0.
- Replies must be JSON; a reply that does not parse is retried with a reminder (``retries`` times), and
  a call that never parses is counted in ``parse_failures`` (the claim or item is then left unjudged,
  not guessed).
- Every call is cached in ``OUT/judge-cache/`` keyed by (prompt name + template, model, input hash), so
  re-running the judge on the same run costs nothing.

The judge is a second opinion on faithfulness, independent of the verifier that chose the citations.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .stats import aggregate

VERDICTS = ("supported", "partial", "unsupported")

CLAIMS_PROMPT = """You split an answer into its factual claims.
Write each claim as one short, self-contained sentence. Ignore citation markers like [1].
Reply with JSON only, in exactly this form: {{"claims": ["first claim", "second claim"]}}

Answer:
<<<
{answer}
>>>"""

VERDICT_PROMPT = """You check whether passages support a claim. Use only the passages, no outside knowledge.
- "supported": every part of the claim is stated in the passages or follows directly from them.
- "partial": some part is stated and another part is missing from the passages.
- "unsupported": the passages contradict the claim or do not state it.
Reply with JSON only, in exactly this form: {{"verdict": "supported", "reason": "a few words"}}

Passages:
<<<
{passages}
>>>

Claim: {claim}"""

RETRY_SUFFIX = "\n\nYour previous reply was not valid JSON in the required form. Reply with the JSON object only."


class JudgeParseError(ValueError):
    pass


def parse_json_object(text: str) -> dict:
    """The first JSON object in ``text`` (code fences and chatter around it are ignored)."""
    text = re.sub(r"```(?:json)?", "", text or "")
    start = text.find("{")
    while start >= 0:
        depth, in_str, esc = 0, False, False
        for i in range(start, len(text)):
            ch = text[i]
            if in_str:
                if esc:
                    esc = False
                elif ch == "\\":
                    esc = True
                elif ch == '"':
                    in_str = False
                continue
            if ch == '"':
                in_str = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    try:
                        obj = json.loads(text[start:i + 1])
                    except json.JSONDecodeError:
                        break
                    if isinstance(obj, dict):
                        return obj
                    break
        start = text.find("{", start + 1)
    raise JudgeParseError(f"expected a JSON object, got {text[:80]!r}")


def _claims_of(obj: dict) -> list[str]:
    claims = obj.get("claims")
    if not isinstance(claims, list) or not all(isinstance(c, str) for c in claims):
        raise JudgeParseError(f'expected {{"claims": [strings]}}, got {json.dumps(obj)[:80]}')
    return [c.strip() for c in claims if c.strip()]


def _verdict_of(obj: dict) -> dict:
    v = obj.get("verdict")
    if not isinstance(v, str) or v.strip().lower() not in VERDICTS:
        raise JudgeParseError(f'expected {{"verdict": one of {"|".join(VERDICTS)}}}, got {json.dumps(obj)[:80]}')
    return {"verdict": v.strip().lower(), "reason": str(obj.get("reason", ""))[:300]}


@dataclass
class JudgeStats:
    calls: int = 0
    cache_hits: int = 0
    retries: int = 0
    parse_failures: int = 0
    errors: int = 0


@dataclass
class Judge:
    """``complete(prompt) -> str`` is the model call; ``model`` names it in the cache key."""
    complete: Callable[[str], str]
    model: str
    cache_dir: Path | None = None
    retries: int = 2
    stats: JudgeStats = field(default_factory=JudgeStats)

    def _key(self, name: str, template: str, payload: Any) -> str:
        h = hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
        return hashlib.sha256(f"{name}\0{template}\0{self.model}\0{h}".encode()).hexdigest()[:32]

    def _ask(self, name: str, template: str, payload: dict, parse: Callable[[dict], Any]) -> Any:
        key = self._key(name, template, payload)
        path = self.cache_dir / f"{key}.json" if self.cache_dir else None
        if path is not None and path.is_file():
            self.stats.cache_hits += 1
            return json.loads(path.read_text(encoding="utf-8"))["value"]
        prompt = template.format(**payload)
        value, replies = None, []
        for attempt in range(self.retries + 1):
            self.stats.calls += 1
            if attempt:
                self.stats.retries += 1
            reply = self.complete(prompt + (RETRY_SUFFIX if attempt else ""))
            replies.append(reply)
            try:
                value = parse(parse_json_object(reply))
                break
            except JudgeParseError:
                continue
        else:
            self.stats.parse_failures += 1
            return None  # not cached: a later run may succeed
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"prompt": name, "model": self.model, "value": value, "reply": replies[-1]},
                                       ensure_ascii=False), encoding="utf-8")
        return value

    def claims(self, answer_text: str) -> list[str] | None:
        return self._ask("claims", CLAIMS_PROMPT, {"answer": answer_text}, _claims_of)

    def verdict(self, claim: str, passages: Sequence[str]) -> dict | None:
        joined = "\n\n".join(f"[{i}] {p}" for i, p in enumerate(passages, 1))
        return self._ask("verdict", VERDICT_PROMPT, {"claim": claim, "passages": joined}, _verdict_of)


def openai_like_judge(llm_settings, *, model: str | None = None, base_url: str | None = None, cache_dir: Path | None = None,
                      retries: int = 2, max_tokens: int = 256) -> Judge:
    """A Judge over an OpenAI-compatible endpoint (llama-index `OpenAILike`, passed explicitly, temperature 0)."""
    import os

    from llama_index.llms.openai_like import OpenAILike

    name = model or llm_settings.model
    llm = OpenAILike(model=name, api_base=base_url or llm_settings.base_url,
                     api_key=os.environ.get(llm_settings.api_key_env) or "not-needed", is_chat_model=True,
                     temperature=0.0, max_tokens=max_tokens, timeout=llm_settings.timeout_s, max_retries=0)
    return Judge(complete=lambda prompt: llm.complete(prompt).text, model=f"{name}@{base_url or llm_settings.base_url}",
                 cache_dir=cache_dir, retries=retries)


def _strip_markers(text: str) -> str:
    return re.sub(r"\s*\[\d+(?:\s*,\s*\d+)*\]", "", text or "").strip()


def judge_record(judge: Judge, record: Mapping[str, Any], *, max_claims: int = 8) -> dict[str, Any]:
    out: dict[str, Any] = {"id": record["id"], "claims": [], "claim_support": None, "claim_partial": None, "error": "",
                           "parse_failure": False}
    ans = record.get("answer") or {}
    if record.get("failed") or not ans or ans.get("abstained"):
        out["skipped"] = True
        return out
    text = " ".join(_strip_markers(s.get("text", "")) for s in ans.get("sentences") or []) or _strip_markers(ans.get("answer", ""))
    passages = list(dict.fromkeys(c.get("passage", "") for c in ans.get("citations") or [] if c.get("passage")))
    before = judge.stats.parse_failures
    try:
        claims = judge.claims(text)
        if claims is None:
            out["parse_failure"] = True
            return out
        for claim in claims[:max_claims]:
            v = judge.verdict(claim, passages) if passages else {"verdict": "unsupported", "reason": "no cited passage"}
            out["claims"].append({"claim": claim, **(v or {"verdict": None, "reason": "unparsed"})})
    except Exception as exc:  # endpoint down, timeout: recorded, the item stays unjudged
        judge.stats.errors += 1
        out["error"] = f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]
        return out
    out["parse_failure"] = judge.stats.parse_failures > before
    judged = [c for c in out["claims"] if c["verdict"] is not None]
    if judged:
        out["claim_support"] = sum(c["verdict"] == "supported" for c in judged) / len(judged)
        out["claim_partial"] = sum(c["verdict"] == "partial" for c in judged) / len(judged)
    return out


def judge_run(run_dir: str | Path, judge: Judge, *, limit: int | None = None, max_claims: int = 8,
              progress: Callable[[int, int, str], None] | None = None) -> dict[str, Any]:
    """Judge every answered record of a run; writes judge.jsonl and judge.json into the run folder."""
    from .runner import load_records

    run_dir = Path(run_dir)
    records = load_records(run_dir)[: limit or None]
    rows = []
    for i, r in enumerate(records, 1):
        rows.append(judge_record(judge, r, max_claims=max_claims))
        if progress:
            progress(i, len(records), r["id"])
    (run_dir / "judge.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in rows), encoding="utf-8")
    judged = [x for x in rows if not x.get("skipped")]
    unjudged = sum(1 for x in judged if x["claim_support"] is None)
    summary = {
        "model": judge.model,
        "items": len(records),
        "answered": len(judged),
        "unjudged": unjudged,  # parse failures or endpoint errors: reported, not scored
        "claim_support": asdict(aggregate([x["claim_support"] for x in judged], name="claim_support")),
        "claim_partial": asdict(aggregate([x["claim_partial"] for x in judged], name="claim_partial")),
        "claims": sum(len(x["claims"]) for x in judged),
        "stats": asdict(judge.stats),
    }
    (run_dir / "judge.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary
