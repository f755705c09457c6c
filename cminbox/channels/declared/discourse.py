"""The Discourse channel type's declaration: its config keys, capabilities and traits, read
by the config and the TUI's first frame without the adapter (cminbox/channels/discourse.py)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from cminbox.core.channel import Capabilities, ChannelDeclaration, ChannelTraits


class DiscourseOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    posts: bool = True  # new posts across the forum (narrowed by categories / tags)
    categories: list[int] = msgspec.field(default_factory=list)  # category ids; empty: all
    tags: list[str] = msgspec.field(default_factory=list)  # only topics with one of these tags
    notifications: bool = True
    review_queue: bool = False  # flagged and queued posts (needs a moderator's key)
    mark_read_on_done: bool = True  # mark the notification read when its item is done
    backfill_pages: Annotated[int, msgspec.Meta(ge=1, le=20, description="pages of posts on first use")] = 1


CAPABILITIES = Capabilities(
    reply=True,
    reply_limit=32000,
    thread=True,
    moderation=("flag", "close", "reopen", "agree", "disagree"),
    moderation_reasons=(
        ("flag", "spam, off-topic or inappropriate (the default)"),
        ("agree", "review-queue items: agree with the flags and hide the post"),
        ("disagree", "review-queue items: reject the flags, the post stays"),
    ),
)
TRAITS = ChannelTraits(
    secret_label="API key",  # noqa: S106 (a label)
    marks_read=True,
    guideline_actions=("flag", "agree"),
)
DECLARATION = ChannelDeclaration("discourse", CAPABILITIES, TRAITS, DiscourseOptions, None)
