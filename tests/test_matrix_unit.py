"""Edge cases of the Matrix adapter's reading of events, without a homeserver.

Regression (review of 2026-12-01, on Synapse 1.163): a room member's message whose
``m.relates_to`` held ``"event_id": {"x": 1}`` (Synapse stores what it is sent) made every poll
fail with "internal error (AttributeError)"; ``"m.in_reply_to": {"event_id": 12345}`` became a
parent id ``mx:12345``. A relation that is not an event id is no relation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cminbox.channels.matrix import MatrixChannel, MatrixOptions
from cminbox.core.channel import ChannelContext, Identity
from cminbox.core.clock import FrozenClock
from cminbox.core.text import bound_message

ME = Identity(id="@cm:hs.example", handle="@cm:hs.example")


def channel() -> MatrixChannel:
    async def token() -> str:
        return "syt_token"

    return MatrixChannel(
        ChannelContext(
            name="mx",
            url="https://hs.example",
            account="",
            options=MatrixOptions(),
            token=token,
            clock=FrozenClock(datetime(2026, 11, 2, tzinfo=UTC)),
        )
    )


def event(relates: Any) -> dict[str, Any]:
    return {
        "type": "m.room.message",
        "event_id": "$e1",
        "sender": "@ana:hs.example",
        "origin_server_ts": 1_790_000_000_000,
        "content": {"msgtype": "m.text", "body": "thread dict", "m.relates_to": relates},
    }


@pytest.mark.parametrize(
    "relates",
    [
        {"rel_type": "m.thread", "event_id": {"x": 1}},
        {"rel_type": "m.thread", "event_id": 12345},
        {"m.in_reply_to": {"event_id": 12345}},
        {"m.in_reply_to": {"event_id": ["$a"]}},
    ],
    ids=["thread-dict", "thread-int", "reply-int", "reply-list"],
)
def test_a_relation_that_is_not_an_event_id_is_no_relation(relates: dict[str, Any]) -> None:
    item = channel()._item(event(relates), "!room:hs.example", ME, True)
    assert item is not None
    stored = bound_message(item)  # the way into the store, which failed on the dict
    assert stored.thread_id == "mx:$e1" and stored.parent_id == ""
    assert stored.extra["thread_root"] == ""


def test_a_real_thread_relation_is_kept() -> None:
    item = channel()._item(event({"rel_type": "m.thread", "event_id": "$root"}), "!room:hs.example", ME, True)
    assert item is not None and item.thread_id == "mx:$root"
