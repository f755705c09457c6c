"""answer confirm|correct and people top: community answers (core/community_ops.py, shared
with the TUI's c, C and H)."""

from __future__ import annotations

import argparse
from typing import Any

from cminbox.commands.arg_types import LIMIT
from cminbox.commands.context import Context
from cminbox.commands.render import clean, dumps
from cminbox.core.community_ops import CommunityOps, Helper, parse_since
from cminbox.core.models import Answered
from cminbox.core.text import fit_cells, one_line


def _ops(ctx: Context) -> CommunityOps:
    return CommunityOps(ctx.config, ctx.store, ctx.clock)


def answered_json(a: Answered) -> dict[str, Any]:
    return {
        "kind": a.kind,
        "who": a.who,
        "handle": a.handle,
        "name": a.name,
        "at": a.at.isoformat(),
        "message_id": a.message_id,
        "url": a.url,
        "confirmed_at": a.confirmed_at.isoformat() if a.confirmed_at else None,
        "confirmed_by": a.confirmed_by,
    }


def cmd_confirm(ctx: Context, args: argparse.Namespace) -> int:
    [mid] = ctx.resolve(args.id)
    done = _ops(ctx).confirm(mid, thank=args.thank)
    if args.json:
        thanked = None if done.thanked is None else {"outbox_id": done.thanked.id, "text": done.thanked.payload["text"]}
        print(dumps({"id": mid, "status": "done", "answered": answered_json(done.answered), "thank_you": thanked}))
        return 0
    print(f"{mid}: done; answer by {clean(done.answered.handle)} confirmed (`cminbox undo` takes it back)")
    if args.thank:
        print("thank-you queued" if done.thanked is not None else "thank-you already queued before: not sent again")
    return 0


def cmd_correct(ctx: Context, args: argparse.Namespace) -> int:
    [mid] = ctx.resolve(args.id)
    ops = _ops(ctx)
    answered = ops.answer_of(mid)
    text = (ops.quote(mid) if args.quote else "") + args.text
    item = ctx.inbox.reply(mid, text)
    if args.json:
        print(
            dumps({"id": mid, "outbox_id": item.id, "text": item.payload["text"], "answered": answered_json(answered)})
        )
        return 0
    print(f"{mid}: official reply queued ({item.id}); the running instance sends it")
    return 0


def helper_row(rank: int, h: Helper) -> str:
    name = fit_cells(one_line(f"{h.name} ({h.handle})" if h.handle else h.name, 60), 40)
    per = ", ".join(f"{ch} {n}" for ch, n in sorted(h.channels.items()))
    return f"{rank:>3}  {name}  {h.confirmed:>9}  {h.answers:>7}  {h.replies:>7}  {per}"


def cmd_top(ctx: Context, args: argparse.Namespace) -> int:
    since = parse_since(args.since)
    ranked = _ops(ctx).top(since, args.channel, args.limit)
    if args.json:
        print(dumps({"since": args.since, "channel": args.channel, "helpers": [h.to_json() for h in ranked]}))
        return 0
    if not ranked:
        print(f"nobody answered or replied to others in the last {args.since}")
        return 0
    print(f"{'#':>3}  {'who':<40}  {'confirmed':>9}  {'answers':>7}  {'replies':>7}  per channel")
    for i, h in enumerate(ranked, start=1):
        print(helper_row(i, h))
    return 0


def register_top(verbs: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``people top``: called by people_cmds.register, which owns the ``people`` verbs."""
    p = verbs.add_parser("top", help="who helps most: confirmed answers, community answers, replies to others")
    p.add_argument("--since", default="30d", help="how far back: 30d, 12h, 2w (default 30d)")
    p.add_argument("--channel", help="only this channel")
    p.add_argument("--limit", type=LIMIT, help="the first N only")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_top)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    answer = sub.add_parser("answer", help="a community answer: confirm it or correct it")
    verbs = answer.add_subparsers(dest="verb", metavar="VERB", required=True)
    p = verbs.add_parser("confirm", help="done, the helper credited (undo takes both back)")
    p.add_argument("id")
    p.add_argument("--thank", action="store_true", help="queue the [community] thank_you reply to the helper (once)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_confirm)
    p = verbs.add_parser("correct", help="queue the official reply on the question")
    p.add_argument("id")
    p.add_argument("--text", required=True, help="the official reply")
    p.add_argument("--quote", action="store_true", help="start it with the community answer quoted")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_correct)
