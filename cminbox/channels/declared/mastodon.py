"""The Mastodon channel type's declaration: its config keys, capabilities and traits, read
by the config and the TUI's first frame without the adapter (cminbox/channels/mastodon.py)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from cminbox.core.channel import Capabilities, ChannelDeclaration, ChannelTraits


class MastodonOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    backfill_pages: Annotated[int, msgspec.Meta(ge=1, le=20, description="pages of older mentions on first use")] = 1
    page_size: Annotated[int, msgspec.Meta(ge=1, le=80, description="Mastodon's maximum is 80")] = 40
    # The widest visibility a reply may have (VISIBILITY_ORDER).
    reply_visibility: Literal["public", "unlisted", "private", "direct"] = "public"


CAPABILITIES = Capabilities(
    reply=True,
    reply_limit=500,
    thread=True,
    moderation=("report", "mute", "block"),
    moderation_reasons=(("report", "any text, sent with the report as its comment"),),
)
TRAITS = ChannelTraits(direct_messages=True, guideline_actions=("report",))
DECLARATION = ChannelDeclaration("mastodon", CAPABILITIES, TRAITS, MastodonOptions, None)
