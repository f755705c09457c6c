"""who: the teammates with an inbox open on this store, and what each is on (presence)."""

from __future__ import annotations

import argparse

from cminbox.commands.context import Context
from cminbox.commands.render import dumps
from cminbox.core.presence import ONLINE, Presence
from cminbox.core.text import one_line


def _doc(rec: Presence) -> dict[str, object]:
    return {
        "person": rec.person,
        "instance": rec.instance,
        "message_id": rec.message_id or None,
        "activity": rec.activity.value if rec.message_id != ONLINE else "online",
        "expires_at": rec.expires_at.isoformat(),
    }


def cmd_who(ctx: Context, args: argparse.Namespace) -> int:
    records = sorted(ctx.store.presence(), key=lambda r: (r.person, r.message_id, r.instance))
    members = ctx.config.team.members
    if args.json:
        here = {r.person for r in records}
        away = [m for m in members if m not in here and m != ctx.config.actor]
        print(dumps({"me": ctx.config.actor, "online": [_doc(r) for r in records], "away": away}))
        return 0
    if not records:
        print("(nobody else has an inbox open on this store)")
    for rec in records:
        doing = f"{rec.activity.value} {rec.message_id}" if rec.message_id != ONLINE else "in the inbox"
        print(f"{one_line(rec.person):<16} {doing}   ({rec.instance})")
    away = [m for m in members if m not in {r.person for r in records} and m != ctx.config.actor]
    if away:
        print(f"away: {', '.join(away)}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("who", help="teammates with an inbox open on this store now, and the item each is on")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_who)
