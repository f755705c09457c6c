"""Macros for the tests: the rules fixtures' config (a channel with staff, a target, a saved
reply, two teammates) with playbooks, and an incident burst to run them on."""

from __future__ import annotations

from datetime import datetime, timedelta

from cminbox.core import config
from cminbox.core.models import Message
from tests.rules_fixtures import BASE, PATH, by

TEAM = """
[team]
me = "ana"
members = ["ana", "bo"]
"""
MACROS = """
[[saved_replies]]
name = "status page"
text = "Sync is down for everyone, {author.first_name}: follow status.example.com for updates."

[[macros]]
name = "outage"
key = "O"
description = "The incident answer"
steps = [{tag = ["outage"]}, {reply = "status page"}, {done = true}]

[[macros]]
name = "page"
steps = [
  {priority = "urgent"},
  {note = "paged during the outage"},
  {escalate = {target = "oncall", note = "customer-facing"}},
]
"""


def macro_config(extra: str = "") -> config.Config:
    return config.parse(BASE.replace('[team]\nme = "ana"\n', TEAM) + MACROS + extra, PATH)


def burst(n: int, now: datetime) -> list[Message]:
    """``n`` outage posts by different people, newest first (masto:1 … masto:n)."""
    return [
        by(i, f"@user{i}@example.social", "sync is down again", now - timedelta(minutes=i)) for i in range(1, n + 1)
    ]
