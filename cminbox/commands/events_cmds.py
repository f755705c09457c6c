"""events: the store's event log (what happened, who did it, from which instance)."""

from __future__ import annotations

import argparse

import msgspec

from cminbox.commands.arg_types import LIMIT
from cminbox.commands.context import Context, UsageError
from cminbox.commands.render import dumps
from cminbox.core.text import one_line
from cminbox.core.when import parse_duration


def cmd_events(ctx: Context, args: argparse.Namespace) -> int:
    since, after = 0, None
    if args.since:
        duration = parse_duration(args.since)
        if duration is not None:
            after = ctx.clock() - duration
        elif args.since.isdigit():
            since = int(args.since)
        else:
            raise UsageError(f"--since takes a position (1234) or a duration (30m, 2h, 3d), not {args.since!r}")
    events = ctx.store.events(since=since, after=after, limit=args.limit)
    if args.json:
        print(dumps(msgspec.to_builtins(events)))
        return 0
    for e in events:
        who = e.actor or "-"
        print(f"{e.pos:>7} {e.at:%Y-%m-%d %H:%M:%S} {who:<14} {e.kind:<8} {e.message_id}  {one_line(e.label)}")
    if not events:
        print("(no events)")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "events", help="the event log: arrivals, edits, triage actions and undos, replies sent, archiving"
    )
    p.add_argument("--since", metavar="POS|DURATION", help="after this position, or within this long (30m, 2h, 3d)")
    p.add_argument("--limit", type=LIMIT, help="at most this many (the oldest first)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_events)
