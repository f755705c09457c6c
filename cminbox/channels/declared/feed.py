"""The feed channel type's declaration: its config keys, capabilities and traits, read
by the config and the TUI's first frame without the adapter (cminbox/channels/feed.py)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from cminbox.core.channel import Capabilities, ChannelDeclaration, ChannelTraits


class FeedOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Entries taken on first use (newest first).
    max_entries: Annotated[int, msgspec.Meta(ge=0, le=500, description="entries")] = 50
    keywords: list[str] = msgspec.field(default_factory=list)  # only entries mentioning one of these


CAPABILITIES = Capabilities(reply=False, thread=False, moderation=(), reply_is_public=False)
# No secret: `cminbox login` and the keyring are not needed, and since nothing secret
# travels, a plain-http feed is allowed.
TRAITS = ChannelTraits(needs_secret=False, sends_secrets=False)
DECLARATION = ChannelDeclaration("feed", CAPABILITIES, TRAITS, FeedOptions, None)
