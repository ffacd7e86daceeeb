"""The optional LLM judge: JSON parsing with retries, the cache, parse failures counted; and one real
call sequence against the llama.cpp server (SmolLM2) through llama-index's OpenAILike."""
from __future__ import annotations

import json

import pytest

from dossier.eval.judge import Judge, JudgeParseError, judge_record, judge_run, openai_like_judge, parse_json_object

RECORD = {
    "id": "q1", "failed": False,
    "answer": {"abstained": False, "answer": "The cameras detect people up to 110 meters away. [1]",
               "sentences": [{"text": "The cameras detect people up to 110 meters away.", "citations": [1]}],
               "citations": [{"n": 1, "passage": "The cameras, which according to tender documents can detect people "
                                                 "up to 110 meters away, were delivered in 2016."}]},
}


def test_parse_json_object_finds_the_object_in_chatter():
    assert parse_json_object('Sure!\n```json\n{"verdict": "supported", "reason": "a } b"}\n```') == \
        {"verdict": "supported", "reason": "a } b"}
    assert parse_json_object('{oops} {"claims": []}') == {"claims": []}
    with pytest.raises(JudgeParseError):
        parse_json_object("no json here")


class Scripted:
    """Replies from a list, recording prompts (a deterministic stand-in for the parsing unit only)."""

    def __init__(self, replies):
        self.replies, self.prompts = list(replies), []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return self.replies.pop(0)


def test_retry_then_cache(tmp_path):
    llm = Scripted(["not json", '{"claims": ["Cameras detect people at 110 m."]}',
                    '{"verdict": "SUPPORTED", "reason": "stated"}'])
    judge = Judge(llm, "m", cache_dir=tmp_path / "cache", retries=2)
    row = judge_record(judge, RECORD)
    assert row["claims"] == [{"claim": "Cameras detect people at 110 m.", "verdict": "supported", "reason": "stated"}]
    assert row["claim_support"] == 1.0 and not row["parse_failure"]
    assert judge.stats.calls == 3 and judge.stats.retries == 1 and judge.stats.parse_failures == 0
    assert "Reply with the JSON object only" in llm.prompts[1]  # the retry carries a reminder
    # a second judge with the same model reads everything from the cache: no call at all
    again = Judge(Scripted([]), "m", cache_dir=tmp_path / "cache")
    assert judge_record(again, RECORD)["claim_support"] == 1.0
    assert again.stats.calls == 0 and again.stats.cache_hits == 2
    # another model name is another cache key
    other = Judge(Scripted(['{"claims": []}']), "other", cache_dir=tmp_path / "cache")
    assert judge_record(other, RECORD)["claims"] == [] and other.stats.calls == 1


def test_parse_failures_are_counted_not_guessed(tmp_path):
    judge = Judge(Scripted(["nope", "still nope", "{}"]), "m", cache_dir=tmp_path, retries=2)
    row = judge_record(judge, RECORD)
    assert row["parse_failure"] and row["claim_support"] is None
    assert judge.stats.parse_failures == 1 and judge.stats.calls == 3
    assert not list(tmp_path.glob("*.json"))  # failures are not cached


def test_real_judge_against_llama_cpp_server(llm_server, tmp_path):
    from dossier.app.settings import LLMSettings

    run = tmp_path / "run"
    run.mkdir()
    (run / "records.jsonl").write_text(json.dumps(RECORD) + "\n" + json.dumps({"id": "q2", "failed": True}) + "\n",
                                       encoding="utf-8")
    settings = LLMSettings(base_url=llm_server, timeout_s=60)
    judge = openai_like_judge(settings, cache_dir=run / "judge-cache", retries=1, max_tokens=64)
    summary = judge_run(run, judge, max_claims=1)
    assert summary["items"] == 2 and summary["answered"] == 1
    st = summary["stats"]
    assert st["errors"] == 0 and st["calls"] >= 1
    # a tiny model often fails the JSON format: then it is counted; otherwise the claims are judged
    rows = [json.loads(x) for x in (run / "judge.jsonl").read_text().splitlines()]
    assert rows[1]["skipped"] is True
    assert rows[0]["parse_failure"] == (st["parse_failures"] > 0) or rows[0]["claims"]
    if st["parse_failures"] == 0:  # everything parsed: a second judge reads it all from the cache
        judge2 = openai_like_judge(settings, cache_dir=run / "judge-cache", retries=1, max_tokens=64)
        judge_run(run, judge2, max_claims=1)
        assert judge2.stats.calls == 0 and judge2.stats.cache_hits >= 1
