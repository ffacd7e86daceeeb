"""The quote index (#13): extraction of direct and reported quotations with their speakers, storage in the
catalog in step with documents (replace, remove, prune), and the `quotes` / `speakers` commands.

The texts in the unit tests are written here for the behaviour they check; the labelled evaluation sets
(eval/datasets/quotes-*.jsonl) are scored by `dossier eval quotes` (tests/test_quotes_eval.py)."""
from __future__ import annotations

import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dossier.ingest.quotes import extract_quotes, quote_spans

from conftest import SEED, SEED_MANIFEST, load_document


def by_kind(quotes, kind):
    return [q for q in quotes if q.kind == kind]


# --------------------------------------------------------------------------- extraction


def test_direct_quote_after_named_speaker_with_role_and_org():
    text = ("“Prices will rise again next year,” said Hanna Berg, a senior economist at the Baltic Trade Institute.\n\n"
            "“We see no sign of a turn,” she said.")
    qs = extract_quotes(text)
    direct = by_kind(qs, "direct")
    assert [q.text for q in direct] == ["Prices will rise again next year,", "We see no sign of a turn,"]
    assert {q.speaker for q in direct} == {"Hanna Berg"}  # "she said" resolved to the person named before
    assert direct[0].role == "senior economist" and direct[0].org == "Baltic Trade Institute"
    for q in qs:
        assert text[q.start:q.end] == q.text


def test_pronoun_quote_goes_to_the_person_introduced_in_the_paragraph_before():
    text = ("Lars Okafor, a port engineer in Skarva, has studied the harbour for a decade.\n\n"
            "“The breakwater was never meant for ships this size,” he said.")
    (q,) = by_kind(extract_quotes(text), "direct")
    assert q.speaker == "Lars Okafor" and q.role == "port engineer"
    # the cue is the sentence that named him, in the paragraph before
    assert text[q.cue_start:q.cue_end].startswith("Lars Okafor, a port engineer")


def test_continuation_paragraph_and_multi_paragraph_quote_keep_the_speaker():
    text = ("“The tender was rigged from the start,” said Ada Lindqvist, an auditor at the Skarva Audit Office.\n\n"
            "“Nobody else could have met the deadline. The winner knew the terms a month early.\n\n"
            "“And the board signed it anyway.”\n\n"
            "The company declined to comment.")
    direct = by_kind(extract_quotes(text), "direct")
    assert [q.text for q in direct] == ["The tender was rigged from the start,",
                                        "Nobody else could have met the deadline. The winner knew the terms a month early.",
                                        "And the board signed it anyway."]
    assert {q.speaker for q in direct} == {"Ada Lindqvist"}


def test_surname_resolves_to_full_name_and_inner_quotes_stay_in_the_outer_quote():
    text = ("Mikael Strand, a lawyer for the union, spoke after the hearing.\n\n"
            "“They told us, ‘Sign or leave,’ and most signed,” Strand said.")
    (q,) = by_kind(extract_quotes(text), "direct")
    assert q.speaker == "Mikael Strand"
    assert "‘Sign or leave,’" in q.text


def test_straight_quotes_and_according_to():
    text = 'According to Nils Brun, "the audit found no record of the payments at all."'
    (q,) = by_kind(extract_quotes(text), "direct")
    assert q.speaker == "Nils Brun" and q.text == "the audit found no record of the payments at all."


def test_organisation_speaking_as_a_body_and_reported_speech():
    text = ("The Skarva Harbour Authority (SHA) runs the port.\n\n"
            "Greenpeace has warned that the new quay threatens the seal colony.\n\n"
            "The dredging will start in May, according to the SHA.")
    rep = by_kind(extract_quotes(text), "reported")
    assert [(q.speaker, q.speaker_type) for q in rep] == [("Greenpeace", "organisation"),
                                                          ("Skarva Harbour Authority", "organisation")]
    assert rep[0].text == "Greenpeace has warned that the new quay threatens the seal colony."


def test_reported_speech_with_surname_and_that_clause():
    text = ("Ingvar Lund, the mayor of Skarva, opened the session.\n\n"
            "Lund argued that the harbour fees had not changed since 2015.")
    (q,) = by_kind(extract_quotes(text), "reported")
    assert q.speaker == "Ingvar Lund" and q.text.startswith("Lund argued that")


def test_transcript_turns_are_direct_quotes_of_the_labelled_speaker():
    text = ("Present: Sara Holm (Chair); Pieter Smit, harbour master of Skarva.\n\n"
            "THE CHAIR: We begin with the harbour fees.\n\n"
            "MR SMIT: The fees have not changed since 2015.\n\n"
            "THE CHAIR: Then why did the income fall?\n\n"
            "MR SMIT: Fewer ships called, and that is all.\n\n"
            "[The hearing was adjourned.]")
    qs = extract_quotes(text)
    assert [(q.speaker, q.text) for q in qs] == [
        ("Sara Holm", "We begin with the harbour fees."), ("Pieter Smit", "The fees have not changed since 2015."),
        ("Sara Holm", "Then why did the income fall?"), ("Pieter Smit", "Fewer ships called, and that is all.")]
    assert {q.kind for q in qs} == {"direct"}
    assert qs[1].role == "harbour master"


def test_two_labelled_paragraphs_do_not_make_a_transcript():
    text = "NOTE: figures are in euros.\n\nSOURCE: the ministry's annual report.\n\nThe fees rose in 2020."
    assert extract_quotes(text) == []


@pytest.mark.parametrize("text", [
    "The ministry calls it a “temporary measure” and says nothing more.",  # scare quote, one speaker-less term
    "Unnamed officials say the plan is dead.",  # no named speaker
    "The guards were held for 14 days.",  # "held" is not speech without "that"
    "The report, titled “Locked Out”, was published in 2023.",
    "The new rules came into force, experts say.",
])
def test_not_quotations(text):
    assert extract_quotes(text) == []


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["“", "”", '"', "‘", "’", " said ", " he ", "Anna Berg", ", a lawyer at the Court,", ". ",
                                 "\n\n", "according to ", "the SBC", " (", ")", "x", "We will", " Berg"]), max_size=40))
def test_offsets_are_exact_on_any_text(parts):
    text = "".join(parts)
    for q in extract_quotes(text):
        assert text[q.start:q.end] == q.text and q.start < q.end
        assert q.kind in ("direct", "reported") and q.speaker
        assert 0 <= q.cue_start <= q.cue_end <= len(text)
    for s, e, _ in quote_spans(text, 0, len(text)):
        assert 0 <= s < e <= len(text)


def test_seed_article_bychkovskiy_quotes_attributed_by_he_wrote():
    text = SEED.read_text(encoding="utf-8")
    mine = [q for q in extract_quotes(text) if q.speaker == "Anton Bychkovskiy"]
    texts = [q.text for q in mine]
    # attributed only by "he wrote in an email" and "he wrote", and the paragraphs that go on from them
    assert any(t.startswith("The border guard officers operated within the framework of the law") for t in texts)
    assert any(t.startswith("It is also a common European and world border guard practice") for t in texts)
    assert any(t.startswith("As for the video showing the detainment") for t in texts)
    assert {q.role for q in mine} == {"spokesman"} and {q.org for q in mine} == {"SBC"}


# --------------------------------------------------------------------------- the catalog keeps them in step


def _stored(svc):
    return [(r["doc_id"], r["speaker"], r["quote"]) for r in svc.catalog.quote_rows()]


def test_catalog_quotes_follow_replace_remove_and_prune(tmp_path, make_service):
    from dossier.index.indexer import Ingestor

    folder = tmp_path / "in"
    folder.mkdir()
    a = folder / "a.txt"
    a.write_text("“The quay is unsafe,” said Ada Lindqvist, an engineer at the Skarva Port Office.\n", encoding="utf-8")
    (folder / "b.txt").write_text("Greenpeace has warned that the dredging threatens the seals.\n", encoding="utf-8")
    svc = make_service()
    Ingestor(svc).run([str(folder)])
    rows = svc.catalog.quote_rows()
    assert {r["speaker"] for r in rows} == {"Ada Lindqvist", "Greenpeace"}
    for r in rows:
        assert svc.catalog.doc_text(r["doc_id"])[r["start"]:r["end"]] == r["quote"]

    # replaced: the old version's quotes go with it, in the same transaction
    a.write_text("“The quay is safe now,” said Ada Lindqvist, an engineer at the Skarva Port Office.\n", encoding="utf-8")
    Ingestor(svc).run([str(a)])
    assert sorted(q for _, _, q in _stored(svc)) == ["Greenpeace has warned that the dredging threatens the seals.",
                                                     "The quay is safe now,"]
    assert {d for d, _, _ in _stored(svc)} <= svc.catalog.doc_ids()

    # removed
    b_id = next(d for d, s, _ in _stored(svc) if s == "Greenpeace")
    assert svc.remove_document(b_id)
    assert [s for _, s, _ in _stored(svc)] == ["Ada Lindqvist"]

    # pruned: the file is gone
    shutil.rmtree(folder)
    Ingestor(svc).run([], prune=True)
    assert _stored(svc) == []
    assert svc.catalog.db.execute("SELECT COUNT(*) FROM quote_docs").fetchone()[0] == 0


def test_catalog_from_before_the_quote_index_gets_its_quotes_on_first_read(tmp_path):
    from dossier.index.catalog import Catalog
    from dossier.index.quotes import QuoteIndex

    doc = load_document(SEED)
    cat = Catalog(tmp_path / "catalog.sqlite")
    cat.put_document(doc, [], "fp")
    # as an older catalog has it: no quotes, no record of extraction
    with cat.tx() as db:
        db.execute("DELETE FROM quotes")
        db.execute("DELETE FROM quote_docs")
    assert cat.quote_rows() == []
    rows = QuoteIndex(cat).quotes(speaker="Bychkovskiy")
    assert rows and all(r["speaker"] == "Anton Bychkovskiy" for r in rows)
    assert QuoteIndex(cat).quotes(speaker="Franco")  # stored now, read by a fresh index too


def test_quote_index_filters_and_descriptions(seed_index):
    from dossier.index.quotes import QuoteIndex

    qi = QuoteIndex(seed_index.svc.catalog)
    assert {r["speaker"] for r in qi.quotes(org="Amnesty International")} == {"Amnesty International", "Joshua Franco"}
    assert {r["speaker"] for r in qi.by_description("the SBC spokesman")} == {"Anton Bychkovskiy"}
    amnesty = qi.by_description("Amnesty")
    assert amnesty[0]["speaker"] == "Amnesty International"  # named outright comes before its people
    assert {r["speaker"] for r in amnesty} == {"Amnesty International", "Joshua Franco"}
    found = qi.by_words("the videos are frightening to watch")
    assert found[0]["speaker"] == "Martin Lemberg-Pedersen" and found[0]["quote"].startswith("The videos are frightening")
    assert qi.by_words("the cameras can see five kilometres") == []
    speakers = {s.name: s for s in qi.speakers()}
    assert speakers["Anton Bychkovskiy"].quotes == len(qi.quotes(speaker="Bychkovskiy"))
    assert speakers["Josephine Liebl"].org == "European Council on Refugees and Exiles"


# --------------------------------------------------------------------------- the commands


def test_quotes_and_speakers_commands(tmp_path, run_cli):
    data = tmp_path / "data"
    assert run_cli("--data-dir", data, "ingest", SEED, "--manifest", SEED_MANIFEST).exit_code == 0
    res = run_cli("--data-dir", data, "quotes", "--speaker", "Bychkovskiy", "--json")
    assert res.exit_code == 0, res.stderr
    rows = res.json()
    assert rows and {r["speaker"] for r in rows} == {"Anton Bychkovskiy"}
    assert {"speaker", "role", "org", "kind", "quote", "doc_id", "title", "page", "start", "end"} <= set(rows[0])
    assert any(r["quote"].startswith("The border guard officers operated") for r in rows)  # "he wrote in an email"
    text = SEED.read_text(encoding="utf-8")
    assert all(text[r["start"]:r["end"]] == r["quote"] for r in rows)
    assert rows[0]["title"] == "Equipping a Dictator"

    plain = run_cli("--data-dir", data, "quotes", "--speaker", "Bychkovskiy")
    assert plain.exit_code == 0 and "Anton Bychkovskiy" in plain.stdout and "spokesman" in plain.stdout

    org = run_cli("--data-dir", data, "quotes", "--org", "Amnesty", "--json").json()
    assert {r["speaker"] for r in org} == {"Amnesty International", "Joshua Franco"}

    sp = run_cli("--data-dir", data, "speakers", "--json").json()
    by_name = {s["name"]: s for s in sp}
    assert by_name["Joshua Franco"]["org"] == "Amnesty International" and by_name["Joshua Franco"]["quotes"] >= 5
    assert sum(s["quotes"] for s in sp) == len(run_cli("--data-dir", data, "quotes", "--json").json())


def test_quotes_command_bad_input_is_one_line_and_status_2(tmp_path, run_cli):
    data = tmp_path / "data"
    res = run_cli("--data-dir", data, "quotes", "--doc", "dnope")
    assert res.exit_code == 2 and "no such document" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = run_cli("--data-dir", data, "quotes", "--speaker", " ")
    assert res.exit_code == 2 and "--speaker" in res.stderr
    res = run_cli("--data-dir", data, "quotes", "--json")
    assert res.exit_code == 0 and res.json() == []
