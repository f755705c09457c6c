"""What cminbox derives from a message's text at ingest, before it is stored: its language
and sentiment (core/sentiment.py). Done by the poller on a worker thread, so the event loop
never waits on it; derived only from the text, so an edited message is scored anew and a
message that comes again unchanged gets the same values (no spurious change)."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from cminbox.core.models import Message
from cminbox.core.sentiment import score


def enrich(messages: Iterable[Message]) -> list[Message]:
    out = []
    for message in messages:
        result = score(message.text)
        if (message.sentiment, message.lang) != (result.score, result.language):
            message = msgspec.structs.replace(message, sentiment=result.score, lang=result.language)
        out.append(message)
    return out
