"""The Matrix channel type's declaration: its config keys, capabilities and traits, read
by the config and the TUI's first frame without the adapter (cminbox/channels/matrix.py)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from cminbox.core.channel import Capabilities, ChannelDeclaration, ChannelTraits


class MatrixOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    rooms: list[str] = msgspec.field(default_factory=list)  # ids or aliases; empty = every joined room
    support_rooms: list[str] = msgspec.field(default_factory=list)  # every message there is an item
    keywords: list[str] = msgspec.field(default_factory=list)  # elsewhere: mentions of the account or these
    # Messages read from a room the first time it is seen.
    backfill: Annotated[int, msgspec.Meta(ge=0, le=500, description="messages per room")] = 20


CAPABILITIES = Capabilities(reply=True, reply_limit=None, thread=True, moderation=("redact",), reply_is_public=True)
TRAITS = ChannelTraits(supports_password_login=True, guideline_actions=("redact",))
DECLARATION = ChannelDeclaration("matrix", CAPABILITIES, TRAITS, MatrixOptions, None)
