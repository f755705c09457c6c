"""list, show, tag, untag, status, assign, priority, snooze, note, undo."""

from __future__ import annotations

import argparse
import asyncio
import sys

import msgspec

from cminbox.commands.arg_types import LIMIT
from cminbox.commands.context import Context, UsageError
from cminbox.commands.render import clean, clean_line, dumps, message_json, row
from cminbox.core.models import Message, Priority, Status
from cminbox.core.people_ops import PeopleOps
from cminbox.core.query import Node, Query, QueryError, Term, all_of, explain
from cminbox.core.query import parse as parse_query
from cminbox.core.secretless import fit_to_show
from cminbox.core.store_api import ActResult, StoreError
from cminbox.core.triage import normalise_tag
from cminbox.core.when import WhenError, ago, parse_when


def _status(value: str) -> Status:
    try:
        return Status(value.lower())
    except ValueError:
        raise UsageError(f"unknown status {value!r}; use one of: {', '.join(s.value for s in Status)}") from None


def _priority(value: str) -> Priority:
    try:
        return Priority(value.lower())
    except ValueError:
        raise UsageError(f"unknown priority {value!r}; use one of: {', '.join(p.value for p in Priority)}") from None


def list_query(args: argparse.Namespace) -> Query:
    """``--status``, ``--tag``, ``--channel`` and ``--query`` as one query (one evaluator for
    live and archived items; ``--channel`` is ``channel:``, the name or the type)."""
    parts: list[Node] = []
    if args.status:
        parts.append(Term("status", ":", _status(args.status).value))
    if args.tag:
        parts.append(Term("tag", ":", normalise_tag(args.tag)))
    if args.channel:
        parts.append(Term("channel", ":", args.channel.lower()))
    if args.query:
        try:
            query = parse_query(args.query)
        except QueryError as exc:
            raise UsageError(f"--query: {exc}") from None
        if query.node is not None:
            parts.append(query.node)
    return Query.of(all_of(parts))


def cmd_list(ctx: Context, args: argparse.Namespace) -> int:
    query = list_query(args)
    # The newest N: a lazily opened store reads only the parts that can hold them (the
    # store's query, store_queries.py), not the whole store (10k: ~0.08 s of a ~0.27 s call).
    ctx.lazy_store = args.limit is not None and not args.archived
    now, me = ctx.clock(), ctx.config.actor
    people = PeopleOps.of(ctx.config, ctx.store, ctx.clock)
    if args.explain:
        print(explain(query.node, now, me, sorted(people.staff)))
        return 0
    rows = ctx.store.query(where=query, me=me, staff=people.staff, limit=args.limit)
    ctx.report_new_problems(ctx.store)
    archived: set[str] = set()
    if args.archived:
        query = query.bind(people.view()) if query.uses_people else query
        for item in ctx.store.archived():
            if query.matches(item.message, item.triage, now, me):
                rows.append((item.message, item.triage))
                archived.add(item.id)
        rows.sort(key=lambda r: (r[0].created_at, r[0].id), reverse=True)
    rows = rows[: args.limit] if args.limit is not None else rows
    if args.json:
        print(dumps([{**message_json(m, s), "archived": m.id in archived} for m, s in rows]))
        return 0
    now = ctx.clock()
    for msg, state in rows:
        print(row(msg, state, now) + (" (archived)" if msg.id in archived else ""))
    if not rows:
        print(
            "(no messages match)"
            if (args.status or args.tag or args.channel or args.query)
            else "(the inbox is empty: run `cminbox poll --once`, or try `cminbox demo`)"
        )
        if args.channel and (hint := _unknown_channel(ctx, args.channel.lower())):
            print(hint)
    return 0


def _unknown_channel(ctx: Context, wanted: str) -> str:
    """A word on a --channel that names no configured channel (and, as nothing matched, no
    stored item's either): a typo read as "nothing matches" (new-user trial of 2026-12-02)."""
    configured = ctx.config.channels
    known = {c.name.lower() for c in configured} | {c.type.lower() for c in configured}
    if wanted in known:
        return ""
    return f"(no channel is named or typed {wanted!r}; the channels: {ctx.config.channel_names()})"


def cmd_show(ctx: Context, args: argparse.Namespace) -> int:
    try:
        [mid] = ctx.resolve(args.id)
        msg = ctx.store.get_message(mid)
        assert msg is not None
        state = ctx.store.triage(mid)
        thread = ctx.store.thread_of(msg)
    except StoreError:
        hit = next((a for a in ctx.store.archived() if a.id == args.id or a.id.endswith(":" + args.id)), None)
        if hit is None:
            raise
        msg, state, thread = hit.message, hit.triage, [hit.message]
        print(f"(archived {hit.archived_at:%Y-%m-%d}; `cminbox archive --restore {hit.id}` brings it back)")
    if args.fetch:
        thread = _fetch_thread(ctx, msg)
    if args.json:
        out = message_json(msg, state)
        out["thread"] = [
            {"id": m.id, "author": m.author.handle, "text": m.text, "created_at": m.created_at.isoformat()}
            for m in thread
        ]
        out["notes"] = msgspec.to_builtins(state.notes)
        out["escalation"] = msgspec.to_builtins(state.escalation)
        out["history"] = msgspec.to_builtins(state.history)
        print(dumps(out))
        return 0
    now = ctx.clock()
    # Every field as one inert line, whatever a store from before the ingest check holds.
    print(f"{clean_line(msg.id)}  ({msg.kind}, {clean_line(msg.channel)}, {clean_line(msg.visibility) or 'n/a'})")
    who = msg.author
    print(f"from:     {clean_line(who.display_name)} {clean_line(who.handle)}  {clean_line(who.url)}")
    print(f"when:     {msg.created_at:%Y-%m-%d %H:%M} UTC ({ago(msg.created_at, now)})")
    print(f"url:      {clean_line(msg.url)}")
    print(f"status:   {state.status}   priority: {state.priority}   assignee: {state.assignee or '-'}")
    print(f"tags:     {', '.join(state.tags) or '-'}")
    if state.snoozed_until:
        print(f"snoozed:  until {state.snoozed_until:%Y-%m-%d %H:%M %Z}")
    if state.escalation:
        e = state.escalation
        print(f"escalated to {e.target} ({e.priority}) by {e.by}: {clean(e.note) or '-'}")
    print()
    print(clean(msg.text))
    if len(thread) > 1:
        print("\n--- thread ---")
        for m in thread:
            mark = ">>" if m.id == msg.id else "  "
            print(f"{mark} {m.created_at:%m-%d %H:%M} {m.author.handle}: {clean(m.text)}")
    if state.notes:
        print("\n--- notes ---")
        for n in state.notes:
            print(f"  {n.at:%m-%d %H:%M} {n.author}: {clean(n.text)}")
    if state.history:
        print("\n--- history ---")
        for h in state.history:
            said = h.action if h.action.startswith(f"{h.actor}: ") else f"{h.actor}: {h.action}"  # a rule's
            print(f"  {h.at:%m-%d %H:%M} {said}")
    return 0


def _fetch_thread(ctx: Context, msg: Message) -> list[Message]:
    """The live thread from the channel: fetched and closed on one event loop (a second
    ``asyncio.run`` found the clients bound to the first, closed loop)."""
    engine = ctx.engine()
    channel = engine.channels.get(msg.channel)

    async def run() -> list[Message]:
        try:
            if channel is None:
                raise UsageError(f"{msg.id}: channel {msg.channel!r} is not in the config; cannot fetch its thread")
            return fit_to_show(await channel.thread(msg))
        finally:
            await engine.aclose()

    return asyncio.run(run())


def _report(result: ActResult, verb: str) -> int:
    if result.changed:
        print(f"{verb}: {', '.join(result.changed)}")
    else:
        print(f"nothing changed ({verb} was already the case)")
    return 0


def _as_stored(tags: list[str]) -> str:
    """The tags as the store keeps them ("Bad Tag!" is kept as bad-tag!): what the command
    says it did (a new-user trial of 2026-12-01)."""
    return " ".join(t for t in dict.fromkeys(map(normalise_tag, tags)) if t)


def cmd_tag(ctx: Context, args: argparse.Namespace) -> int:
    return _report(ctx.inbox.tag(ctx.resolve(args.id), args.tags), f"tagged {_as_stored(args.tags)}")


def cmd_untag(ctx: Context, args: argparse.Namespace) -> int:
    return _report(ctx.inbox.untag(ctx.resolve(args.id), args.tags), f"untagged {_as_stored(args.tags)}")


def cmd_status(ctx: Context, args: argparse.Namespace) -> int:
    status = _status(args.status)
    ids = ctx.resolve(args.id)
    plan = ctx.inbox.plan_status(ids, status)
    if plan.held and not args.force:
        print(
            f"skipped {len(plan.held)} of {len(plan.all_ids)} ({plan.summary()}): {', '.join(plan.held_ids)}; "
            "--force changes them too",
            file=sys.stderr,
        )
        if not plan.clear:
            return 0
        ids = list(plan.clear)
    return _report(ctx.inbox.set_status(ids, status), f"status {status}")


def cmd_assign(ctx: Context, args: argparse.Namespace) -> int:
    who = None if args.who in ("-", "none", "nobody") else args.who
    return _report(ctx.inbox.assign(ctx.resolve(args.id), who), f"assigned to {who or 'nobody'}")


def cmd_priority(ctx: Context, args: argparse.Namespace) -> int:
    p = _priority(args.priority)
    return _report(ctx.inbox.set_priority(ctx.resolve(args.id), p), f"priority {p}")


def cmd_snooze(ctx: Context, args: argparse.Namespace) -> int:
    if args.when in ("-", "off", "none"):
        return _report(ctx.inbox.snooze(ctx.resolve(args.id), None), "unsnoozed")
    try:
        until = parse_when(args.when, ctx.clock())
    except WhenError as exc:
        raise UsageError(str(exc)) from None
    return _report(ctx.inbox.snooze(ctx.resolve(args.id), until), f"snoozed until {until:%Y-%m-%d %H:%M %Z}")


def cmd_note(ctx: Context, args: argparse.Namespace) -> int:
    return _report(ctx.inbox.note(ctx.resolve(args.id), " ".join(args.text)), "noted")


def cmd_undo(ctx: Context, args: argparse.Namespace) -> int:
    result = ctx.inbox.undo(ctx.resolve(args.id)[0] if args.id else None)
    if result is None:
        print(f"nothing to undo for {ctx.config.actor}")
        return 1
    print(f"undone: {result.label} ({len(result.changed)} message(s))")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("list", help="list messages, newest first")
    p.add_argument("--status", help="new, open, waiting, escalated or done")
    p.add_argument("--tag")
    p.add_argument("--channel")
    p.add_argument("--query", help='the filter language, e.g. "tag:outage -status:done age:<1h sync"')
    p.add_argument(
        "--explain", action="store_true", help="say which parts of the query use an index, SQL or Python; list nothing"
    )
    p.add_argument("--limit", type=LIMIT)
    p.add_argument("--archived", action="store_true", help="include archived items (marked as such)")
    p.add_argument("--json", action="store_true", help="a JSON array of message objects")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="one message with its thread, triage state and history")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.add_argument("--fetch", action="store_true", help="fetch the live thread from the channel")
    p.set_defaults(func=cmd_show)

    for name, func, helptext in (("tag", cmd_tag, "add tags"), ("untag", cmd_untag, "remove tags")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("id", help="message id (several: comma-separated)")
        p.add_argument("tags", nargs="+")
        p.set_defaults(func=func)

    p = sub.add_parser("status", help="set the status: new, open, waiting, escalated, done")
    p.add_argument("id")
    p.add_argument("status")
    p.add_argument(
        "--force",
        action="store_true",
        help="with several ids, also change escalated items, items assigned to someone else and items with a draft",
    )
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("assign", help="assign to someone (`-` to unassign)")
    p.add_argument("id")
    p.add_argument("who")
    p.set_defaults(func=cmd_assign)

    p = sub.add_parser("priority", help="set the priority: low, normal, high, urgent")
    p.add_argument("id")
    p.add_argument("priority")
    p.set_defaults(func=cmd_priority)

    p = sub.add_parser("snooze", help="snooze until a time: 1h, tomorrow 9:00, next week, ISO date (`-` to wake)")
    p.add_argument("id")
    p.add_argument("when")
    p.set_defaults(func=cmd_snooze)

    p = sub.add_parser("note", help="add an internal note")
    p.add_argument("id")
    p.add_argument("text", nargs="+")
    p.set_defaults(func=cmd_note)

    p = sub.add_parser("undo", help="undo your most recent action (repeatable)")
    p.add_argument("id", nargs="?", help="an item: the newest rule effect on it, if it has one (else your last action)")
    p.set_defaults(func=cmd_undo)
