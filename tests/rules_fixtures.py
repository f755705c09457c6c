"""Rules for the tests: a config with a channel, staff, a target, saved replies and rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import msgspec

from cminbox.core import config
from cminbox.core.clock import Clock
from cminbox.core.models import Author, Message
from cminbox.core.query import Query
from cminbox.core.rules import Rule
from cminbox.core.rules_run import RuleRunner
from cminbox.core.store_api import StoreApi
from tests.factories import make_message

PATH = Path("/etc/cminbox.toml")
BASE = """
[team]
me = "ana"

[[channels]]
name = "masto"
type = "mastodon"
url = "https://example.social"
staff = ["@team@example.social"]

[[escalation.targets]]
name = "oncall"
url = "https://hooks.example.com/cminbox"

[[saved_replies]]
name = "ack"
text = "Thanks {author.first_name}, we are on it."
"""
RULES = """
[[rules]]
name = "outage"
when = "sync"
tag = ["outage"]
priority = "high"

[[rules]]
name = "ack"
when = "tag:outage"
reply = "ack"
auto_reply = true

[[rules]]
name = "spam"
when = "casino"
mute = "spam"
"""


def rules_config(rules: str = RULES) -> config.Config:
    return config.parse(BASE + rules, PATH)


def runner(store: StoreApi, clock: Clock, rules: str = RULES) -> RuleRunner:
    return RuleRunner(rules_config(rules), store, clock)


def by(n: int, handle: str, text: str, at: datetime) -> Message:
    """Message ``n`` by ``handle`` (``@x@example.social``) at ``at``."""
    return msgspec.structs.replace(
        make_message(n, text=text, at=at), author=Author(id=handle, handle=handle, display_name=handle.split("@")[1])
    )


def raising(rule: Rule) -> Rule:
    """The rule with a query that raises on every item (a bug in a rule)."""

    def boom(*_: object) -> bool:
        raise RuntimeError("boom")

    return replace(rule, when=Query(rule.when.text, rule.when.node, boom))
