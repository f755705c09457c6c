"""PartIds, the sorted list that replaced a part's set of ids (issue #14), behaves as that set."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cminbox.core.part_ids import FEW, PartIds

IDS = st.text(alphabet="ab:09-", min_size=1, max_size=6)
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("update"), st.lists(IDS, max_size=FEW * 2)),
        st.tuples(st.just("discard"), IDS),
        st.tuples(st.just("common"), st.sets(IDS, max_size=40)),
    ),
    max_size=30,
)


@given(st.lists(IDS, max_size=100), OPS, st.lists(IDS, max_size=20))
def test_part_ids_answer_as_a_set_does(first: list[str], ops: list[tuple[str, object]], probes: list[str]) -> None:
    ids, model = PartIds(first), set(first)
    for op, arg in ops:
        if op == "update":
            assert isinstance(arg, list)
            ids.update(arg)
            model.update(arg)
        elif op == "discard":
            assert isinstance(arg, str)
            ids.discard(arg)
            model.discard(arg)
        else:
            assert isinstance(arg, set)
            assert ids.common(arg) == arg & model
    assert sorted(ids) == sorted(model) and len(ids) == len(model)
    assert all((p in ids) == (p in model) for p in probes + first)


def test_a_big_lookup_and_a_small_one_find_the_same_ids() -> None:
    ids = PartIds(f"mail:{n:05d}" for n in range(0, 5000, 2))
    few = {"mail:00010", "mail:00011", "mail:04998", "x"}
    many = {f"mail:{n:05d}" for n in range(3000)} | {"x"}
    assert ids.common(few) == {"mail:00010", "mail:04998"}
    assert ids.common(many) == {f"mail:{n:05d}" for n in range(0, 3000, 2)}
