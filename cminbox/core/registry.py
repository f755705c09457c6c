"""Channel and escalation-target types, discovered through entry points.

A third party ships a channel as a package declaring, in its pyproject::

    [project.entry-points."cminbox.channels"]
    forgejo = "cminbox_forgejo:ForgejoChannel"
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

from cminbox.core.errors import CminboxError

CHANNEL_GROUP = "cminbox.channels"
TARGET_GROUP = "cminbox.escalation_targets"


class UnknownTypeError(CminboxError, LookupError):
    pass


@cache
def _names(group: str) -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=group)}


def channel_types() -> list[str]:
    return sorted(_names(CHANNEL_GROUP))


def target_types() -> list[str]:
    return sorted(_names(TARGET_GROUP))


def _load(group: str, name: str, what: str) -> Any:
    ep = _names(group).get(name)
    if ep is None:
        known = ", ".join(sorted(_names(group))) or "none installed"
        raise UnknownTypeError(f"unknown {what} type {name!r} (known: {known})")
    return ep.load()


def load_channel(type_name: str) -> Any:
    return _load(CHANNEL_GROUP, type_name, "channel")


def load_target(type_name: str) -> Any:
    return _load(TARGET_GROUP, type_name, "escalation target")
