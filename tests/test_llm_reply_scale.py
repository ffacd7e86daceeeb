"""Reply parsing stays linear in the reply's length: large replies (sizes at which the former
quadratic parsing would have run for many minutes) parse to the right result, and the one-pass
end-of-turn scan and the streaming cleaner agree with the former whole-prefix definitions on
arbitrary text."""
from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings as hsettings, strategies as st

from dossier.app.engines import llm as L
from dossier.app.engines.llm import parse_reply


# --- reference definitions (the former, quadratic ones) ---------------------------------------------
def ref_end_of_turn(text: str) -> int | None:
    for m in L._END_TOKENS.finditer(text):
        if L._SPECIAL_TOKEN.sub("", text[: m.start()]).strip(" \t\n:").lower() not in ("", "assistant"):
            return m.start()
    return None


def ref_stream(pieces: list[str]) -> tuple[str, bool]:
    pending, emitted, out, done = "", "", [], False
    for piece in pieces:
        if done:
            break
        pending += piece
        cut = ref_end_of_turn(emitted + pending)
        if cut is not None:
            done = True
            chunk, pending = pending[: max(0, cut - len(emitted))], ""
        else:
            lt = pending.rfind("<")
            if lt >= 0 and ">" not in pending[lt:] and len(pending) - lt < 24:
                chunk, pending = pending[:lt], pending[lt:]
            else:
                chunk, pending = pending, ""
        chunk = L._SPECIAL_TOKEN.sub("", chunk)
        emitted += chunk
        out.append(chunk)
    if not done:
        out.append(L._SPECIAL_TOKEN.sub("", pending))
    return "".join(out), done


def stream(pieces: list[str]) -> tuple[str, bool]:
    cleaner = L._StreamCleaner()
    out = []
    for piece in pieces:
        out.append(cleaner.feed(piece))
        if cleaner.done:
            break
    out.append(cleaner.flush())
    return "".join(out), cleaner.done


_BITS = st.sampled_from(["<|im_start|>", "<|im_end|>", "<|endoftext|>", "</s>", "<s>", "<|eot_id|>", "<|end|>",
                         "<|user|>", "<|", "<|im_", "end|>", "assistant", "Assistant", "assis", "tant", ":", " ",
                         "\n", "\t", "The cap", " was $60", " [1].", "x", "<", ">", "|"])
_TEXT = st.lists(_BITS, max_size=30).map("".join)


@given(_TEXT)
@hsettings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_one_pass_end_of_turn_matches_the_whole_prefix_definition(text):
    assert L._end_of_turn(text) == ref_end_of_turn(text)


@given(st.lists(_TEXT, max_size=12))
@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_stream_cleaner_matches_the_whole_prefix_definition(pieces):
    # Scope: replies whose template tokens come whole. A stray "<|" that is not part of a token, or a token
    # that only forms once another inside it is removed ("<|<s>end|>"), is judged by the one-pass cleaner
    # from a compact summary of what it let through, and the former definition (re-cleaning the whole
    # prefix each time) can differ there; both are garbage an endpoint does not send as one reply.
    rest = L._SPECIAL_TOKEN.sub("", "".join(pieces))
    assume("<|" not in rest and L._TOKEN.search(rest) is None)
    assert stream(pieces) == ref_stream(pieces)


def test_a_partial_token_let_through_before_a_new_turn_is_not_reply_text():
    # found by the property above: "<|" passed through, then "<|im_start|>": the reply so far is empty
    assert stream(["<|<|im_start|>", "<|im_start|>"]) == ref_stream(["<|<|im_start|>", "<|im_start|>"]) == ("<|", False)


# --- large replies -------------------------------------------------------------------------------
def test_a_reply_of_100000_cited_points_parses_with_every_citation():
    # 2.3 MB: placing each marker group by scanning all sentences was 100,000 x 100,000 steps
    reply = "\n\n".join(f"Point {i} holds [{i % 3 + 1}]" for i in range(100_000))
    draft = parse_reply(reply, 3)
    assert not draft.abstained and len(draft.sentences) == 100_000
    assert all(s.text == f"Point {i} holds" and s.cites == [i % 3 + 1] for i, s in enumerate(draft.sentences))


def test_a_reply_opening_with_100000_template_tokens_parses():
    # each leading "<|im_start|>" is a candidate end of turn; judging each by cleaning the whole prefix
    # before it was 100,000 passes over up to 1.2 MB
    reply = "<|im_start|>" * 100_000 + "assistant\nThe cap was $60 [2].<|im_end|>Ignore that [1]."
    draft = parse_reply(reply, 3)
    assert [(s.text, s.cites) for s in draft.sentences] == [("The cap was $60.", [2])]


def test_streaming_300000_pieces_passes_them_through():
    # the cleaner judged every piece against everything emitted before it: 300,000 passes over up to 1.5 MB
    text, done = stream(["word "] * 300_000 + ["end [1].<|im_end|>", "never shown"])
    assert done and text == "word " * 300_000 + "end [1]."
