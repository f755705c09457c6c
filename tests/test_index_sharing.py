"""What the in-memory indexes share between messages to keep 100k items small: authors,
channel words and, up to a bound, extras that repeat (core/indexes.py). Sharing never
changes what a message says."""

from __future__ import annotations

import msgspec
import pytest

from cminbox.core import indexes
from cminbox.core.indexes import Indexes
from tests.factories import make_message


def test_equal_extras_are_one_dict_and_each_message_still_reads_its_own() -> None:
    ix = Indexes()
    msgs = [
        msgspec.structs.replace(make_message(n), extra={"account_id": str(n % 3), "acct": f"u{n % 3}@x"})
        for n in range(30)
    ]
    ix.add_segment("s", list(enumerate(msgs)))
    stored = [ix.messages[m.id] for m in msgs]
    assert len({id(m.extra) for m in stored}) == 3
    assert [m.extra for m in stored] == [{"account_id": str(n % 3), "acct": f"u{n % 3}@x"} for n in range(30)]


def test_per_message_extras_stop_being_kept_at_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(indexes, "SHARED_EXTRAS", 5)
    ix = Indexes()
    msgs = [msgspec.structs.replace(make_message(n), extra={"post_id": str(n)}) for n in range(20)]
    ix.add_segment("s", list(enumerate(msgs)))
    assert len(ix._shared_extras) == 5
    assert [ix.messages[m.id].extra for m in msgs] == [{"post_id": str(n)} for n in range(20)]
