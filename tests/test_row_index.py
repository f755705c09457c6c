"""RowIndex, the inbox list's ids searched instead of a dict of positions (issue #14), answers
as that dict did: near the cursor or far from it, one id or many."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cminbox.tui.row_index import FEW, NEAR, RowIndex


@given(
    st.lists(st.integers(0, 3000), unique=True, max_size=1200),
    st.integers(0, 1300),
    st.lists(st.integers(0, 3100), max_size=FEW * 3),
)
def test_row_index_finds_what_a_dict_of_positions_finds(rows: list[int], near: int, wanted: list[int]) -> None:
    ids = [f"masto:{n}" for n in rows]
    index = RowIndex(list(ids))
    index.near = near
    as_dict = {mid: at for at, mid in enumerate(ids)}
    asked = [f"masto:{n}" for n in wanted]
    assert index.positions(asked) == {mid: as_dict[mid] for mid in asked if mid in as_dict}
    for mid in asked:
        assert index.get(mid) == as_dict.get(mid)
        assert (mid in index) == (mid in as_dict)
    assert len(index) == len(as_dict) and list(index) == ids


def test_an_equal_id_that_is_another_string_object_is_found_far_from_the_cursor() -> None:
    ids = [f"mail:m-{n:020d}" for n in range(NEAR * 10)]
    index = RowIndex(ids)
    far = "".join(["mail:m-", f"{NEAR * 9:020d}"])  # equal, not the same object
    assert far is not ids[NEAR * 9] and index[far] == NEAR * 9
    index.near = NEAR * 9
    assert index.get(ids[3]) == 3 and index.get("mail:nope") is None
