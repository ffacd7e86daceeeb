"""The draft checker's slot comparisons and draft splitting: pure functions, no model."""
from __future__ import annotations

import pytest

from dossier.app.check import draft_units
from dossier.app.check_slots import Moment, conflicts, missing, polarity_flip, rebound_date, slots


def compare(draft: str, source: str):
    d, s = slots(draft), slots(source)
    miss = missing(d, s)
    return miss, conflicts(d, s, miss)


def test_quantities_keep_their_unit_kind_and_value():
    s = slots("The cameras see 1,100 meters; the deal was worth 2 million euros and took six months.")
    got = {(q.kind, q.value) for q in s.quantities}
    assert {("length", 1100.0), ("money", 2e6), ("duration", 6.0)} <= got


def test_identifiers_are_not_quantities_or_years():
    s = slots("Tender NBGS-2021-03 under Decision (NU) 2023/118 was signed.")
    assert not s.quantities and not s.moments
    assert any("NBGS-2021-03" in n for n in s.names)


def test_dates_say_which_parts_they_give():
    s = slots("It was signed on 9 June 2021 and renewed in February 2018, after the 2011 decision.")
    assert {(m.year, m.month, m.day) for m in s.moments} == {(2021, 6, 9), (2018, 2, None), (2011, None, None)}
    assert Moment(2021, None, None, "2021").within(Moment(2021, 6, 9, "9 June 2021"))
    assert not Moment(2021, 6, 9, "").within(Moment(2021, 6, 10, ""))


@pytest.mark.parametrize("draft, source, kind, src_value, draft_value", [
    ("The radar covers 45 kilometres of coast.", "The radar covers 54 kilometres of coast, the ministry said.", "number", "54 kilometres", "45 kilometres"),
    ("The law took effect on 3 March 2019.", "The law took effect on 3 March 2020 after a long debate.", "date", "3 March 2020", "3 March 2019"),
    ("The report was written by Anna Berg of the Harbour Institute.", "The report was written by Lars Holm of the Harbour Institute.", "name", "Lars Holm", "Anna Berg"),
    ("Greenpeace funded the survey of the northern lakes.", "The Wildlife Trust funded the survey of the northern lakes.", "organisation", "Wildlife Trust", "Greenpeace"),
    ("Karl Nyman, a deputy director at the port, signed the order.", "Karl Nyman, a senior lawyer at the port, signed the order.", "role", "senior lawyer", "deputy director"),
])
def test_one_changed_slot_is_a_conflict_of_its_kind(draft, source, kind, src_value, draft_value):
    miss, conf = compare(draft, source)
    assert miss, "the changed value must be missing from the source"
    assert conf and conf[0].kind == kind
    assert (conf[0].source, conf[0].draft) == (src_value, draft_value)
    assert src_value in conf[0].reason() and draft_value in conf[0].reason()


@pytest.mark.parametrize("draft, source", [
    ("The treaty allows the export of drones.", "The treaty prohibits the export of drones."),
    ("The ministry accepted the audit's second finding.", "The ministry disputed the audit's second finding."),
    ("The agency kept a register of the deliveries.", "The agency kept no register of the deliveries."),
    ("Prices did not increase in the spring.", "Prices increased in the spring."),
])
def test_opposite_polarity_is_a_conflict(draft, source):
    flip = polarity_flip(slots(draft), slots(source))
    assert flip is not None and flip.kind == "polarity"


def test_a_negation_about_something_else_is_not_a_flip():
    draft = "The boats were delivered five months after the deadline."
    source = "The boats were delivered five months after the deadline, and no penalty was claimed."
    assert polarity_flip(slots(draft), slots(source)) is None
    miss, conf = compare(draft, source)
    assert not miss and not conf


def test_a_paraphrase_with_the_same_values_has_no_conflict():
    miss, conf = compare("Anna Berg said the 2019 survey counted 4,812 gulls.",
                         "The survey of 2019 counted 4,812 gulls, according to Anna Berg.")
    assert not miss and not conf


def test_a_spelling_variant_of_a_name_is_the_same_name():
    miss, _ = compare("Lukashenka has ruled since 1994.", "Lukashenko has ruled since 1994.")
    assert not miss


def test_a_figure_bound_to_the_other_year_of_the_sentence():
    d = slots("The group counted 1,318 detentions in 2021.")
    s = slots("The group counted 1,318 detentions in 2022, up from 604 in 2021.")
    c = rebound_date(d, s)
    assert c is not None and (c.source, c.draft) == ("2022", "2021")
    assert rebound_date(slots("The group counted 604 detentions in 2021."), s) is None


def test_draft_units_keep_headings_quotes_and_list_markers_out():
    text = ("# A heading\n\nFirst claim is here. Second claim follows.\n\n> A block quote stays context.\n\n"
            "- A listed claim is checked too.\nShort label\n")
    units = draft_units(text)
    checked = [text[a:b] for a, b, k in units if k == "sentence"]
    assert checked == ["First claim is here.", "Second claim follows.", "A listed claim is checked too."]
    kinds = {text[a:b]: k for a, b, k in units}
    assert kinds["# A heading"] == "heading" and kinds["> A block quote stays context."] == "quote"
    assert kinds["Short label"] == "heading"


def test_a_double_negative_counts_as_negative():
    # "prohibits ... authorising" is the opposite of "may authorise"; "did not allow" agrees with "prohibits"
    assert polarity_flip(slots("The law prohibits officials from authorising the sale."),
                         slots("Officials may authorise the sale under the law.")) is not None
    assert polarity_flip(slots("The law did not allow the sale of drones."), slots("The law prohibits the sale of drones.")) is None


def test_an_antonym_flip_is_seen_past_an_unrelated_negation():
    flip = polarity_flip(slots("The ferries were delivered before the deadline."),
                         slots("The ferries were delivered after the deadline, and no penalty was claimed."))
    assert flip is not None and (flip.source, flip.draft) == ("after", "before")


def test_a_role_belongs_to_the_name_written_next_to_it():
    from dossier.app.check_slots import rebound_role

    source = slots("Two of them, the pilot Eva Lind and the engineer Ole Berg, were questioned for a day.")
    wrong = rebound_role(slots("Ole Berg, a pilot, was questioned for a day."), source)
    assert wrong is not None and wrong.kind == "role" and wrong.draft == "pilot" and "engineer" in wrong.source
    assert rebound_role(slots("Eva Lind, a pilot, was questioned for a day."), source) is None


def test_a_hyphenated_word_at_the_start_is_not_a_missing_name():
    miss, _ = compare("Human-rights training was part of the course.", "The course included human-rights training.")
    assert not miss


def test_a_speaker_named_only_in_the_sentence_before_is_compared():
    """'..., he said' names its speaker in the sentence before: a draft giving the quote to someone else
    conflicts with that name; a sentence that refers back to nobody does not borrow names from around it."""
    draft = slots("Lena Moss said the harbour fees had tripled since the merger.")
    source = slots("“The harbour fees have tripled since the merger,” he said.")
    before = slots("Olaf Brandt, a shipping analyst at the port authority, spoke to reporters on Monday.")
    miss = missing(draft, slots(before.folded + " " + source.folded))
    got = conflicts(draft, source, miss, [before])
    assert [(c.kind, c.source, c.draft) for c in got if c.kind == "name"] == [("name", "Olaf Brandt", "Lena Moss")]
    plain = slots("The harbour fees have tripled since the merger.")
    assert not [c for c in conflicts(draft, plain, miss, [before]) if c.kind == "name"]
    assert not [c for c in conflicts(draft, source, miss) if c.kind == "name"]  # no context given: nothing to compare


def test_a_chunks_first_sentence_gets_the_documents_sentence_before_it():
    """The speaker of a quote that opens a chunk is named at the end of the chunk before: the candidate
    carries the document's previous sentence (read for names only), the others do not."""
    from types import SimpleNamespace

    from dossier.app.check import _candidates

    doc = "Olaf Brandt spoke on Monday. “Fees have tripled,” he said. “It is a worrying trend.”"
    start = doc.index("“Fees")
    chunk = SimpleNamespace(doc_id="d1", start=start, text=doc[start:], chunk_id="c2", page=None)
    asked = []

    def prev(doc_id, offset):
        asked.append((doc_id, offset))
        return "Olaf Brandt spoke on Monday."

    cands = _candidates([SimpleNamespace(chunk=chunk, doc={})], prev)
    assert [c.before for c in cands] == ["Olaf Brandt spoke on Monday.", ""]
    assert asked == [("d1", start)]
    assert [c.before for c in _candidates([SimpleNamespace(chunk=chunk, doc={})])] == ["", ""]


def test_a_contradiction_also_cites_the_neighbour_that_states_the_sources_value():
    from types import SimpleNamespace

    from dossier.app.check import _candidates, _conflict_citations
    from dossier.app.check_slots import Conflict

    text = "Olaf Brandt, a port analyst, spoke on Monday. “Fees have tripled,” he said."
    chunk = SimpleNamespace(doc_id="d1", start=100, text=text, chunk_id="c1", page=None)
    quote = next(c for c in _candidates([SimpleNamespace(chunk=chunk, doc={"title": "T"})]) if c.text.startswith("“Fees"))
    cites = _conflict_citations(quote, Conflict("name", "Olaf Brandt", "Lena Moss"))
    assert [c.quote for c in cites] == ["“Fees have tripled,” he said.", "Olaf Brandt, a port analyst, spoke on Monday."]
    assert [(c.start, c.end) for c in cites][1] == (100, 100 + text.index(" “Fees"))
    assert len(_conflict_citations(quote, Conflict("number", "tripled", "doubled"))) == 1  # the sentence states it
