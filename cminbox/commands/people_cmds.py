"""people list|show|tag|untag|note|link|unlink: the person behind each channel identity.

REF is a person's id (p-...), CHANNEL:HANDLE, an item's id (its author) or a bare handle;
several people at once are comma-separated (``people tag a,b,c vip``), as item ids are for
``cminbox tag``. The verbs live in core/people_ops.py, shared with the TUI.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import Any

import msgspec

from cminbox.commands.community_cmds import register_top
from cminbox.commands.context import Context
from cminbox.commands.render import age, clean, dumps, row
from cminbox.core.guidelines import notices_text
from cminbox.core.people import Person, channel_of, handle_of, is_stored
from cminbox.core.people_ops import Card, PeopleOps, Row
from cminbox.core.text import fit_cells, one_line


def _ops(ctx: Context) -> PeopleOps:
    return PeopleOps.of(ctx.config, ctx.store, ctx.clock)


def _when(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def person_json(r: Row) -> dict[str, Any]:
    p = r.person
    return {
        "id": p.id,
        "stored": is_stored(p),
        "name": r.name,
        "marker": msgspec.structs.replace(p, tags=r.tags).marker(),
        "tags": r.tags,  # with the implied ones (staff)
        "stored_tags": list(p.tags),
        "identities": [
            {
                "identity": key,
                "channel": channel_of(key),
                "handle": r.seen[key].handle if key in r.seen else handle_of(key),
                "items": r.seen[key].items if key in r.seen else 0,
                "open": r.seen[key].open if key in r.seen else 0,
                "first_seen": _when(r.seen[key].first_seen) if key in r.seen else None,
                "last_seen": _when(r.seen[key].last_seen) if key in r.seen else None,
            }
            for key in p.identities
        ],
        "items": r.items,
        "open": r.open,
        "first_seen": _when(r.first_seen),
        "last_seen": _when(r.last_seen),
        "notes": msgspec.to_builtins(p.notes),
        "rev": p.rev,
        "updated_at": _when(p.updated_at),
        "updated_by": p.updated_by,
    }


def card_json(card: Card) -> dict[str, Any]:
    reply, team = card.last_reply, card.team_reply()
    return {
        **person_json(card),
        "open_items": [{"id": m.id, "status": str(s.status), "text": m.text} for m, s in card.open_items],
        "guideline_notices": card.guideline_notices.sent,
        "guideline_moderations": card.guideline_notices.moderated,
        "last_reply": None
        if reply is None
        else {"by": reply.actor, "at": _when(reply.sent_at), "message_id": reply.message_id},
        # The newest from the team, through cminbox or a staff account's reply on the channel.
        "team_reply": None
        if team is None
        else {
            "by": team.by,
            "at": _when(team.at),
            "message_id": team.message_id,
            "on_channel": team.outside,
            "reply_id": team.reply_id or None,
        },
        "sentiment": {
            "trend": card.trend.word,
            "recent": card.trend.recent,
            "before": card.trend.before,
            "scored": card.trend.scored,
        },
        "suggested_links": card.suggested,
        "community_answers": {"answers": card.answers[0], "confirmed": card.answers[1]},
    }


def _line(r: Row, now: datetime) -> str:
    marker = msgspec.structs.replace(r.person, tags=r.tags).marker()
    seen = f"{r.items} items, {r.open} open, last {age(r.last_seen, now)} ago" if r.last_seen else "no live items"
    tags = f"  [{' '.join(r.tags)}]" if r.tags else ""
    who = fit_cells(one_line(clean(r.name)), 20)
    return f"{r.person.id:<14} {marker:<3} {who}  {', '.join(r.person.identities)}{tags}  {seen}"


def cmd_list(ctx: Context, args: argparse.Namespace) -> int:
    rows = _ops(ctx).listing(tag=args.tag, everyone=args.all)
    if args.json:
        print(dumps([person_json(r) for r in rows]))
        return 0
    now = ctx.clock()
    for r in rows:
        print(_line(r, now))
    if not rows:
        print("(nobody matches)" if args.tag else "(no people yet: `cminbox people tag REF vip`, or `--all`)")
    return 0


def cmd_show(ctx: Context, args: argparse.Namespace) -> int:
    card = _ops(ctx).card(args.ref)
    if args.json:
        print(dumps(card_json(card)))
        return 0
    now = ctx.clock()
    p = card.person
    marker = msgspec.structs.replace(p, tags=card.tags).marker()
    print(f"{one_line(clean(card.name))}  ({p.id}{'' if is_stored(p) else ', no record yet'})  {marker}".rstrip())
    print(f"tags:        {', '.join(card.tags) or '-'}")
    if card.answers[0]:
        print(f"answers:     {card.answers[0]} community answers, {card.answers[1]} confirmed")
    for n, key in enumerate(p.identities):
        s = card.seen.get(key)
        seen = (
            f"{s.items} items, {s.open} to do, first {s.first_seen:%Y-%m-%d}, last {age(s.last_seen, now)} ago"
            if s
            else "no live items"
        )
        print(f"{'identities:' if n == 0 else '':<12} {key}   {seen}")
    for n, (m, st) in enumerate(card.open_items):
        print(f"{'to do:' if n == 0 else '':<12} {row(m, st, now, 100)}")
    if card.open > len(card.open_items):
        print(f"{'':<12} …and {card.open - len(card.open_items)} more")
    reply = card.team_reply()
    if reply is not None:
        where = ", on the channel" if reply.outside else ""
        print(f"last reply:  {one_line(clean(reply.by))}, {age(reply.at, now)} ago (to {reply.message_id}{where})")
    t = card.trend
    detail = f"last {t.recent:+.2f}" if t.recent is not None else "no scored items"
    if t.before is not None:
        detail += f", before {t.before:+.2f}"
    print(f"sentiment:   {t.word} ({detail}; {t.scored} scored)")
    if told := notices_text(card.guideline_notices):
        print(f"guidelines:  {told} (follow-ups sent)")
    for n, note in enumerate(p.notes):
        print(f"{'notes:' if n == 0 else '':<12} {note.at:%Y-%m-%d} {note.author}: {one_line(clean(note.text))}")
    for n, key in enumerate(card.suggested):
        print(f"{'link?:' if n == 0 else '':<12} {key}   (`cminbox people link {p.id} {key}`)")
    return 0


def _report(ctx: Context, args: argparse.Namespace, ops: PeopleOps, changed: list[Person], done: str) -> int:
    rows = [ops.row(p) for p in changed]
    if args.json:
        print(dumps([person_json(r) for r in rows]))
        return 0
    if not rows:
        print("nothing changed")
    for r in rows:
        print(f"{done}: {r.person.id} {one_line(clean(r.name))} [{' '.join(r.tags)}]")
    return 0


def cmd_tag(ctx: Context, args: argparse.Namespace) -> int:
    ops = _ops(ctx)
    add, remove = (args.tags, ()) if args.verb == "tag" else ((), args.tags)
    changed = ops.tag([args.refs], add=add, remove=remove)
    if args.verb == "untag" and "staff" in args.tags:
        for p in ops.resolve_many([args.refs]):
            if ops.staff.intersection(p.identities):
                print(f"cminbox: {p.id} stays staff: an identity is a staff account in [[channels]]", file=sys.stderr)
    return _report(ctx, args, ops, changed, "tagged" if args.verb == "tag" else "untagged")


def cmd_note(ctx: Context, args: argparse.Namespace) -> int:
    ops = _ops(ctx)
    return _report(ctx, args, ops, [ops.note(args.ref, " ".join(args.text))], "noted")


def cmd_link(ctx: Context, args: argparse.Namespace) -> int:
    ops = _ops(ctx)
    return _report(ctx, args, ops, [ops.link(args.a, args.b)], "linked")


def cmd_unlink(ctx: Context, args: argparse.Namespace) -> int:
    ops = _ops(ctx)
    kept = ops.unlink(args.identity)
    if not args.json:
        print(f"{args.identity} is a person of its own again")
    return _report(ctx, args, ops, [kept], "left")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    people = sub.add_parser("people", help="the people behind the identities: tags, notes, links")
    verbs = people.add_subparsers(dest="verb", metavar="VERB", required=True)

    p = verbs.add_parser("list", help="stored people and staff accounts, most recently seen first")
    p.add_argument("--tag", help="only people with this profile tag (staff includes the configured accounts)")
    p.add_argument("--all", action="store_true", help="every author of a live item too")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = verbs.add_parser("show", help="a person's card: identities, tags, notes, open items, sentiment")
    p.add_argument("ref", help="p-ID, CHANNEL:HANDLE, an item id or a handle")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)

    for verb, helptext in (("tag", "add profile tags"), ("untag", "remove profile tags")):
        p = verbs.add_parser(verb, help=f"{helptext} (advocate, vip, complainer, troll, press, staff or any word)")
        p.add_argument("refs", metavar="REF[,REF...]", help="the people (several: comma-separated)")
        p.add_argument("tags", nargs="+")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_tag)

    p = verbs.add_parser("note", help="add a note about a person (never sent anywhere)")
    p.add_argument("ref")
    p.add_argument("text", nargs="+")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_note)

    p = verbs.add_parser("link", help="make A and B one person (identities on any channels; never automatic)")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_link)

    p = verbs.add_parser("unlink", help="take an identity (CHANNEL:HANDLE) out of its person")
    p.add_argument("identity")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_unlink)
    register_top(verbs)  # people top: community_cmds.py
