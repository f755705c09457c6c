"""The email channel type's declaration: its config keys, capabilities and traits, read
by the config and the TUI's first frame without the adapter (cminbox/channels/mail.py)."""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

from cminbox.core.channel import Capabilities, ChannelDeclaration, ChannelTraits


class MailOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    smtp_url: str = ""  # smtps://host:465 or smtp://host:587 (STARTTLS)
    folder: str = "INBOX"
    mark_seen: bool = False  # set \\Seen on mail cminbox has read
    sent_folder: str = ""  # e.g. "Sent": save a copy of each reply (and never send one twice)
    # Mails fetched from the folder on first use (a poll reads at most MAX_PER_POLL anyway).
    backfill: Annotated[int, msgspec.Meta(ge=0, le=500, description="mails")] = 50
    username: str = ""  # the login, when it is not the `account` address


def option_problems(options: MailOptions) -> list[tuple[str, str, str]]:
    """(key, problem, hint): replies need an SMTP server to go out through."""
    if not options.smtp_url:
        return [("smtp_url", "an email channel needs `smtp_url` to send replies.", 'e.g. "smtp://mail.example:587"')]
    if not re.match(r"^smtps?://[^/\s]+", options.smtp_url):
        return [("smtp_url", f"{options.smtp_url!r} is not an SMTP URL.", "Use smtps://host:465 or smtp://host:587.")]
    return []


CAPABILITIES = Capabilities(reply=True, reply_limit=None, thread=True, moderation=(), reply_is_public=False)
TRAITS = ChannelTraits(url_schemes=("imaps", "imap"), checks_options=True)
DECLARATION = ChannelDeclaration("email", CAPABILITIES, TRAITS, MailOptions, option_problems)
