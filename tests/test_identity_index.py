"""The identity index (core/indexes.py ``by_identity``) the author card and the people fields
read: built on first use, then kept current by every later add, edit and removal. Compared
after each step with grouping every message by ``people.identity_of`` from scratch."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from cminbox.core.indexes import Indexes
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
            ix.add_message(f"seg{n % 3}", n, msg)
        elif op == "drop":
            ix.drop_message(f"masto:{n}")
        elif op == "segment":
            ix.drop_segment(f"seg{n}")
        else:
            built = True
        if built:
            assert ix.by_identity() == _brute(ix)
    assert ix.by_identity() == _brute(ix)
