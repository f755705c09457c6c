"""The Reddit channel type's declaration: its config keys, capabilities and traits, read
by the config and the TUI's first frame without the adapter (cminbox/channels/reddit.py)."""

from __future__ import annotations

import msgspec

from cminbox.core.channel import Capabilities, ChannelDeclaration, ChannelTraits
from cminbox.core.urls import is_loopback


class RedditOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    client_id: str = ""
    auth_url: str = "https://www.reddit.com/api/v1/access_token"
    inbox: bool = True
    subreddits: list[str] = msgspec.field(default_factory=list)  # without the r/
    subreddit_comments: bool = True  # new comments too, not only new posts
    mark_read_on_done: bool = True
    user_agent: str = ""  # default: python:cminbox:<version> (by /u/<account>)


def option_problems(options: RedditOptions) -> list[tuple[str, str, str]]:
    """(key, problem, hint) for options that cannot work: no app id, a password sent over http."""
    if not options.client_id:
        return [
            (
                "client_id",
                'a reddit channel needs `client_id`, the id of your "script" app.',
                "Create one at https://www.reddit.com/prefs/apps and copy the id shown under its name.",
            )
        ]
    if not options.auth_url.startswith("https://") and not is_loopback(options.auth_url):
        return [("auth_url", f"{options.auth_url!r} is not an https URL.", "The password travels there: use https://.")]
    return []


CAPABILITIES = Capabilities(
    reply=True,
    reply_limit=10000,
    thread=True,
    moderation=("remove", "spam", "approve"),
    moderation_reasons=(("remove", "any text, kept as the removal's mod note"),),
)
# needs_url: https://oauth.reddit.com unless `url` says otherwise; the password login also
# needs the "script" app's client secret.
TRAITS = ChannelTraits(
    needs_url=False,
    supports_password_login=True,
    login_secrets=("client_secret",),
    marks_read=True,
    checks_options=True,
    guideline_actions=("remove", "spam"),
    direct_messages=True,
)
DECLARATION = ChannelDeclaration("reddit", CAPABILITIES, TRAITS, RedditOptions, option_problems)
