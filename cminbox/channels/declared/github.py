"""The GitHub channel type's declaration: its config keys, capabilities and traits, read
by the config and the TUI's first frame without the adapter (cminbox/channels/github.py)."""

from __future__ import annotations

from cminbox.channels.github_options import GitHubOptions, option_problems
from cminbox.core.channel import Capabilities, ChannelDeclaration, ChannelTraits

CAPABILITIES = Capabilities(
    reply=True,
    reply_limit=65000,
    thread=True,
    moderation=("lock", "unlock", "hide"),
    moderation_reasons=(
        ("lock", "off-topic, too heated, resolved or spam (anything else: no reason)"),
        ("hide", "spam, abuse, off-topic, outdated, duplicate or resolved (default off-topic)"),
    ),
)
# needs_url: https://api.github.com unless `url` names an Enterprise Server
TRAITS = ChannelTraits(needs_url=False, marks_read=True, checks_options=True, guideline_actions=("hide",))
DECLARATION = ChannelDeclaration("github", CAPABILITIES, TRAITS, GitHubOptions, option_problems)
