"""Presence: who is looking at which item, and who is writing a reply to it, across instances.

Each store handle keeps at most one presence record (its person, the item, the activity) and
heartbeats it every :data:`HEARTBEAT` seconds; a record not renewed within :data:`TTL` is
expired, so a crashed instance's "is replying" disappears by itself. Presence is throwaway
data: losing it (a crash, a server restart) costs a marker for a few seconds, never an item,
so backends write it cheaply (no fsync on TinyDB, an UNLOGGED table on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

import msgspec

TTL = timedelta(seconds=15)  # a record not renewed for this long is gone
HEARTBEAT = 5.0  # seconds between renewals: two missed heartbeats still leave it alive
ONLINE = ""  # the message id of a record that says "in the inbox, on no item" (an empty list)


class Activity(StrEnum):
    VIEWING = "viewing"  # the item is under the cursor, its preview shown
    REPLYING = "replying"  # the reply composer is open on it


class Presence(msgspec.Struct, frozen=True):
    person: str  # the instance's [team] me
    instance: str  # the store handle's id (host:pid:random): one record per handle
    message_id: str
    activity: Activity
    expires_at: datetime


def by_item(records: Iterable[Presence]) -> dict[str, list[Presence]]:
    """Records per item; on one item, people replying first, then by name."""
    out: dict[str, list[Presence]] = {}
    for rec in sorted(records, key=lambda r: (r.activity != Activity.REPLYING, r.person, r.instance)):
        if rec.message_id == ONLINE:
            continue
        out.setdefault(rec.message_id, []).append(rec)
    return out


def describe(records: Iterable[Presence]) -> str:
    """``"bob is replying"``, ``"ana is viewing, bob is replying"``: one phrase per person,
    replying winning over viewing for a person on two instances; "" for none."""
    activity: dict[str, Activity] = {}
    for rec in records:
        if activity.get(rec.person) != Activity.REPLYING:
            activity[rec.person] = rec.activity
    return ", ".join(f"{person} is {act.value}" for person, act in sorted(activity.items()))


def online(records: Iterable[Presence], me: str) -> list[str]:
    """The other people with an inbox open on this store, by name (you on another host or
    pane are not listed: the header says who *else* is here)."""
    return sorted({rec.person for rec in records if rec.person != me})
