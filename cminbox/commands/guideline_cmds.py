"""guidelines and follow-up: the community guidelines, and telling an author which one applied.

``cminbox moderate ID ACTION --guideline NAME`` (outbox_cmds) queues the follow-up with the
moderation; ``cminbox follow-up ID --guideline NAME`` tells the author of an item moderated
earlier, or outside cminbox.
"""

from __future__ import annotations

import argparse
from typing import Any

from cminbox.commands.context import Context
from cminbox.commands.outbox_cmds import _print_outcome, deliver_now
from cminbox.commands.render import dumps
from cminbox.core import guideline_ops, registry
from cminbox.core.dispatch import Delivery
from cminbox.core.guidelines import DEFAULT_FOLLOW_UP, route_for
from cminbox.core.outbox_types import OutboxItem
from cminbox.core.text import one_line, sanitize


def _item_json(ctx: Context, item: OutboxItem, deliveries: list[Delivery] | None) -> dict[str, Any]:
    mine = next((d for d in deliveries or () if d.item.id == item.id), None)
    current = ctx.outbox.get(item.id) or item
    return {
        "id": item.id,
        "kind": item.kind.value,
        "message_id": item.message_id,
        "channel": item.destination,
        "status": current.status.value,
        "detail": mine.detail if mine is not None else current.last_error,
        "guideline": item.payload.get("guideline", ""),
        "via": item.payload.get("via", ""),
        "text": item.payload.get("text", ""),
        "result": dict(current.result),
    }


def _report(ctx: Context, queued: guideline_ops.Queued, args: argparse.Namespace) -> int:
    deliveries = None if args.queue_only else deliver_now(ctx)
    items = [*queued.actions, *queued.follow_ups]
    if args.json:
        out = {
            "items": [_item_json(ctx, i, deliveries) for i in items],
            "no_follow_up": [{"message_id": mid, "why": why} for mid, why in queued.skipped],
        }
        print(dumps(out))
        return 0 if all(row["status"] != "failed" for row in out["items"]) else 1
    for mid, why in queued.skipped:
        print(f"{mid}: no follow-up: {why}")
    return max((_print_outcome(ctx, i, deliveries) for i in items), default=0)


def cmd_moderate_with_guideline(ctx: Context, args: argparse.Namespace) -> int:
    ids = ctx.resolve(args.id)
    if args.guideline:
        queued = guideline_ops.moderate(
            ctx.inbox, ids, args.action, args.reason or "", args.guideline, follow_up=not args.no_follow_up
        )
    else:
        queued = guideline_ops.Queued(actions=ctx.inbox.moderate(ids, args.action, args.reason or ""))
    return _report(ctx, queued, args)


def cmd_follow_up(ctx: Context, args: argparse.Namespace) -> int:
    queued = guideline_ops.follow_up(ctx.inbox, ctx.resolve(args.id), args.guideline)
    return _report(ctx, queued, args)


def cmd_guidelines(ctx: Context, args: argparse.Namespace) -> int:
    """The configured guidelines, and how a follow-up reaches an author on each channel."""
    routes: dict[str, dict[str, str]] = {}
    for ch in ctx.config.channels:
        way = route_for(registry.load_channel(ch.type))
        routes[ch.name] = {"via": way.via.value, "how": way.how}
    rows = [
        {"name": g.name, "text": g.text, "url": g.url, "follow_up": g.follow_up or DEFAULT_FOLLOW_UP}
        for g in ctx.config.guidelines
    ]
    if args.json:
        print(dumps({"guidelines": rows, "follow_up_by_channel": routes}))
        return 0
    if not rows:
        print("(no guidelines: add [[guidelines]] with name, text and url to the config)")
    for row in rows:
        url = f"  {sanitize(row['url'], single_line=True)}" if row["url"] else ""
        print(f"{row['name']:<16} {one_line(row['text'], 80)}{url}")
    for name, how in routes.items():
        print(f"follow-up on {name}: {how['how']}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("guidelines", help="the community guidelines ([[guidelines]]) and how authors are told")
    p.add_argument("action", nargs="?", choices=["list"], default="list")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_guidelines)

    p = sub.add_parser(
        "follow-up", help="tell the author of an item moderated earlier which guideline applied (sent once)"
    )
    p.add_argument("id", help="message id (several: comma-separated)")
    p.add_argument("--guideline", required=True, metavar="NAME", help="a [[guidelines]] name")
    p.add_argument("--queue-only", action="store_true", help="queue it; let the running instance send it")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_follow_up)
