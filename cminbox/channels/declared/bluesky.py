"""The Bluesky channel type's declaration: its config keys, capabilities and traits, read
by the config and the TUI's first frame without the adapter (cminbox/channels/bluesky.py)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from cminbox.core.channel import Capabilities, ChannelDeclaration, ChannelTraits

LIMIT = 300  # graphemes per post


class BlueskyOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    page_size: Annotated[int, msgspec.Meta(ge=1, le=100, description="Bluesky's maximum is 100")] = 50
    mark_seen: bool = True  # tell Bluesky the notifications were seen (updateSeen)


CAPABILITIES = Capabilities(reply=True, reply_limit=LIMIT, thread=True, moderation=())
TRAITS = ChannelTraits(supports_password_login=True)
DECLARATION = ChannelDeclaration("bluesky", CAPABILITIES, TRAITS, BlueskyOptions, None)
