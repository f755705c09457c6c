"""Sentiment: VADER behind an English gate. Text in another language gets no score ("?"),
never a wrong one; any text at all scores without raising, within VADER's range."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cminbox.core.sentiment import Mood, language, score
from tests.sentiment.labelled import items


def test_no_foreign_item_of_the_labelled_set_gets_a_score() -> None:
    foreign = [i for i in items() if i.label == "foreign"]
    assert len(foreign) >= 20
    scored = [(i.text, score(i.text)) for i in foreign if score(i.text).mood != Mood.UNKNOWN]
    assert scored == []


def test_english_items_of_the_labelled_set_are_all_scored() -> None:
    english = [i for i in items() if i.label != "foreign"]
    assert [i.text for i in english if score(i.text).mood == Mood.UNKNOWN] == []


def test_the_set_is_a_few_hundred_items_in_two_halves() -> None:
    labelled = items()
    assert len(labelled) >= 240
    assert {i.half for i in labelled} == {"dev", "test"}
    assert {i.label for i in labelled} == {"negative", "fine", "foreign"}


def test_plain_cases() -> None:
    assert score("your devs are clowns and sync is garbage").mood == Mood.NEGATIVE
    assert score("love how fast search is now, thank you!").mood == Mood.POSITIVE
    assert score("how do I export my notes?").mood == Mood.NEUTRAL
    assert language("Das ist der schlechteste Support") == "de"
    assert language("שלום, יש בעיה") == "other"
    assert score("🎉🎉🎉 https://example.com/x").mood == Mood.UNKNOWN  # nothing to judge


@given(st.text(max_size=400))
def test_any_text_scores_without_raising_within_range(text: str) -> None:
    result = score(text)
    assert result.score is None or -1.0 <= result.score <= 1.0
    assert (result.score is None) == (result.language != "en")


def test_enrich_scores_at_ingest_and_is_stable() -> None:
    from cminbox.core.enrich import enrich
    from cminbox.core.query import parse
    from tests.factories import make_message

    angry, foreign = make_message(1, text="this update is garbage"), make_message(2, text="Das ist nicht gut")
    once = enrich([angry, foreign])
    assert once[0].lang == "en" and once[0].sentiment is not None and once[0].sentiment < -0.05
    assert once[1].lang == "de" and once[1].sentiment is None
    assert enrich(once) == once  # the same text again: the same values, no spurious change
    from cminbox.core.models import TriageState

    now, state = once[0].created_at, TriageState(id="x")
    assert parse("sentiment:negative lang:en").matches(once[0], state, now, "ana")
    assert parse("mood:unknown language:de").matches(once[1], state, now, "ana")


def test_only_the_opening_of_a_long_post_is_scored() -> None:
    """Ingest scores a message before the store bounds it, and a server may send megabytes: a
    200,000-character run took a minute of CPU in the address pattern (hostile-data trial of
    2026-12-01). Only the first SCORED_CHARS are read."""
    from cminbox.core.sentiment import SCORED_CHARS, score

    opening = "I love this release, thanks a lot! " * 20
    long_tail = opening + "S" * 200_000 + " this is terrible awful broken garbage, I hate it"
    assert score(long_tail) == score(long_tail[:SCORED_CHARS])
    assert score(long_tail).score is not None and score(long_tail).score > 0


def test_links_and_addresses_are_not_scored_as_words() -> None:
    from cminbox.core.sentiment import score

    plain = score("Thanks, that fixed it and I am happy now")
    assert score("Thanks, that fixed it and I am happy now https://bad.example/terrible-awful") == plain
    assert score("Thanks, that fixed it and I am happy now (awful.terrible@hate.example)") == plain
