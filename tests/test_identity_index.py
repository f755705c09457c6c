"""The identity index (core/indexes.py ``by_identity``) the author card and the people fields
read, kept current by every add, edit and removal; and the author keys' ids the preview's
"their other messages" reads (``author_ids``, joined from it, handles that casefold alike but
lower differently included). Compared after each step with grouping every message by
``people.identity_of`` (``author_key``) from scratch."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from cminbox.core.indexes import Indexes, author_key
from cminbox.core.models import Author
from cminbox.core.people import identity_of
from tests.factories import make_message

# Handles that differ only by case, a leading "@", spaces, or a casefold that lower() misses.
HANDLES = ["@ana@a.social", "@ANA@a.social", "ana@a.social ", "@straße", "@STRASSE", "bo", "@Bo"]
CHANNELS = ["masto", "gh"]

step = st.one_of(
    st.tuples(st.just("add"), st.integers(0, 30), st.sampled_from(CHANNELS), st.sampled_from(HANDLES)),
    st.tuples(st.just("drop"), st.integers(0, 30), st.just(""), st.just("")),
    st.tuples(st.just("segment"), st.integers(0, 2), st.just(""), st.just("")),
    st.tuples(st.just("build"), st.just(0), st.just(""), st.just("")),
)


def _brute(ix: Indexes) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for mid, msg in ix.messages.items():
        out.setdefault(identity_of(msg), set()).add(mid)
    return out


def _brute_authors(ix: Indexes) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for mid, msg in ix.messages.items():
        out.setdefault(author_key(msg.author.handle), set()).add(mid)
    return out


def _check_authors(ix: Indexes) -> None:
    """author_ids() (the identities' sets joined) is a fresh grouping by author key."""
    brute = _brute_authors(ix)
    keys = brute.keys() | {author_key(h) for h in HANDLES}
    assert {k: ix.author_ids(k) for k in keys} == {k: brute.get(k, set()) for k in keys}


@settings(max_examples=150, deadline=None)
@given(st.lists(step, max_size=40))
def test_the_identity_index_matches_a_fresh_grouping_after_any_changes(steps: list[tuple[str, int, str, str]]) -> None:
    ix = Indexes()
    built = False
    for op, n, channel, handle in steps:
        if op == "add":  # a new message, or an edit of one (its author may change)
            base = make_message(n, channel="masto")
            msg = msgspec.structs.replace(
                base, channel=channel, author=Author(id=handle, handle=handle, display_name=handle)
            )
            ix.add_message(f"seg{n % 3}", msg)
        elif op == "drop":
            ix.drop_message(f"masto:{n}")
        elif op == "segment":
            ix.drop_segment(f"seg{n}")
        else:
            built = True
        if built:
            assert ix.by_identity() == _brute(ix)
            _check_authors(ix)
    assert ix.by_identity() == _brute(ix)
    _check_authors(ix)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["add", "move", "drop", "segment"]), st.integers(0, 30)), max_size=50))
def test_which_part_holds_an_id_is_found_after_any_changes(steps: list[tuple[str, int]]) -> None:
    """Found from the parts' id sets (no id -> part map: issue #14), against a model: every
    indexed id in exactly one part, the one it was last added to."""
    ix, parts = Indexes(), {}  # the model: id -> its part
    for op, n in steps:
        mid = f"masto:{n}"
        if op in ("add", "move"):  # "move": the same id written to another part (an edit, a repair)
            part = f"seg{(n + (op == 'move')) % 3}"
            ix.add_message(part, make_message(n, channel="masto"))
            parts[mid] = part
        elif op == "drop":
            ix.drop_message(mid)
            parts.pop(mid, None)
        else:
            part = f"seg{n % 3}"
            ix.drop_segment(part)
            parts = {k: v for k, v in parts.items() if v != part}
        assert set(ix.messages) == set(parts)
        assert sum(len(ids) for ids in ix.segment_ids.values()) == len(parts)  # disjoint, none left behind
        assert {k: ix.segment_of(k) for k in parts} == parts
        asked = [f"masto:{i}" for i in range(0, 31, 2)]
        assert ix.by_segment(asked) == _grouped({k: v for k, v in parts.items() if k in asked})


def _grouped(parts: dict[str, str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for mid, part in parts.items():
        out.setdefault(part, set()).add(mid)
    return out
