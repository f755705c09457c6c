"""The people model's pure rules: identity keys, tags, links never automatic, unlink."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cminbox.core.people import (
    PeopleError,
    Person,
    identity,
    implicit,
    linked,
    new_id,
    suggestions,
    tagged,
    unlinked,
)


def test_identity_ignores_case_and_a_leading_at() -> None:
    assert identity("masto", "@Priya@Example.Social") == identity("masto", "priya@example.social")
    assert identity("masto", "priya") != identity("gh", "priya")


def test_tags_are_normalised_and_markers_are_glyphs() -> None:
    p = tagged(implicit("masto:priya"), add=["VIP", "advocate", "beta-tester"])
    assert p.tags == ["vip", "advocate", "beta-tester"]
    assert p.marker() == "★♥"
    assert tagged(p, remove=["vip", "advocate"]).marker() == "·"  # free-form only: a neutral dot
    with pytest.raises(PeopleError):
        tagged(p, add=["  #"])


def test_link_then_unlink_gives_back_a_bare_identity() -> None:
    a = Person(id=new_id(), name="Priya", identities=["masto:priya"], tags=["vip"])
    b = tagged(implicit("gh:priya-r", "priya-r"), add=["advocate"])
    both = linked(a, b)
    assert both.id == a.id and both.identities == ["masto:priya", "gh:priya-r"]
    assert both.tags == ["vip", "advocate"]
    kept, split = unlinked(both, "gh:priya-r")
    assert kept.id == a.id and kept.identities == ["masto:priya"] and kept.tags == ["vip", "advocate"]
    assert split == implicit("gh:priya-r")  # nothing decided about someone else sticks to it
    with pytest.raises(PeopleError):
        unlinked(kept, "masto:priya")  # the only identity
    with pytest.raises(PeopleError):
        linked(both, both)


def test_suggestions_pair_same_user_names_across_channels_only() -> None:
    keys = ["masto:ana@a.social", "gh:ana", "bsky:ana.bsky.social", "masto:bob@b.social", "masto:ana@c.social"]
    pairs = suggestions(keys, {})
    assert ("gh:ana", "masto:ana@a.social") in pairs and ("bsky:ana.bsky.social", "gh:ana") in pairs
    assert all(a.partition(":")[0] != b.partition(":")[0] for a, b in pairs)  # never two on one channel
    done = Person(id=new_id(), identities=["gh:ana", "masto:ana@a.social"])
    assert ("gh:ana", "masto:ana@a.social") not in suggestions(keys, {done.id: done})


@given(st.lists(st.sampled_from(["vip", "troll", "press", "x-1", "advocate"]), max_size=6))
def test_tagging_is_idempotent_and_untagging_inverts_it(tags: list[str]) -> None:
    p = implicit("masto:z")
    once = tagged(p, add=tags)
    assert tagged(once, add=tags) == once
    assert tagged(once, remove=tags).tags == []
