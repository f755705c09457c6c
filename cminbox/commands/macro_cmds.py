"""macros list, macro NAME: the config's playbooks, from the command line as from the inbox's keys."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cminbox.commands.context import Context, UsageError
from cminbox.commands.outbox_cmds import deliver_now
from cminbox.commands.render import dumps
from cminbox.core import macro_run
from cminbox.core.macros import Macro, compile_macros, named
from cminbox.core.people_ops import PeopleOps
from cminbox.core.query import QueryError
from cminbox.core.query import parse as parse_query


def _macro_json(m: Macro) -> dict[str, Any]:
    return {
        "name": m.name,
        "key": m.key,
        "description": m.description,
        "steps": m.words,
        "step_list": [{"kind": s.kind, "words": s.words} for s in m.steps],
    }


def cmd_macros(ctx: Context, args: argparse.Namespace) -> int:
    found = compile_macros(ctx.config)
    if args.json:
        print(dumps([_macro_json(m) for m in found]))
        return 0
    for m in found:
        key = m.key or "-"
        print(f"{m.name:<16} {key:<4} {m.words}" + (f"  ({m.description})" if m.description else ""))
    if not found:
        print("(no macros: add [[macros]] to the config; `cminbox config example` shows one)")
    return 0


def _targets(ctx: Context, args: argparse.Namespace) -> list[str]:
    ids = [mid for part in args.ids for mid in ctx.resolve(part)]
    if args.query is not None:
        try:
            query = parse_query(args.query)
        except QueryError as exc:
            raise UsageError(f"--query: {exc}") from None
        staff = PeopleOps.of(ctx.config, ctx.store, ctx.clock).staff
        ids += [m.id for m, _ in ctx.store.query(where=query, me=ctx.config.actor, staff=staff)]
    if not ids:
        raise UsageError("name the items: IDS (comma-separated or several), or --query")
    return list(dict.fromkeys(ids))


def _plan_json(p: macro_run.MacroPlan, force: bool) -> list[dict[str, Any]]:
    return [
        {
            "id": i.id,
            "runs": force or i.held is None,
            "held": i.held.value if i.held is not None else None,
            "reply": i.reply,
            "no_reply": i.no_reply or None,
        }
        for i in p.items
    ]


def cmd_macro(ctx: Context, args: argparse.Namespace) -> int:
    macro = named(ctx.config, args.name)
    ids = _targets(ctx, args)
    planned = macro_run.plan(ctx.inbox, macro, ids)  # refuses as a whole (exit 1) before writing anything
    if args.dry_run:
        return _dry_run(planned, args)
    result = macro_run.run(ctx.inbox, planned, force=args.force)
    deliveries = None
    if (result.replies or result.escalations) and not args.queue_only:
        deliveries = deliver_now(ctx)
    if args.json:
        print(
            dumps(
                {
                    "macro": macro.name,
                    "group": result.act.group if result.act else None,
                    "ran": result.ran,
                    "changed": result.act.changed if result.act else [],
                    "replies": [{"id": r.id, "message_id": r.message_id} for r in result.replies],
                    "escalations": [{"id": e.id, "message_id": e.message_id} for e in result.escalations],
                    "not_replied": [{"id": mid, "why": why} for mid, why in result.not_replied],
                    "held": [{"id": mid, "why": why.value} for mid, why in result.held],
                    "missing": planned.missing,
                    "sent_now": None if deliveries is None else sum(d.ok for d in deliveries),
                }
            )
        )
        return 0
    if result.held:
        print(
            f"held back {len(result.held)} ({planned.held_summary()}): {', '.join(m for m, _ in result.held)}; "
            "--force runs it on them too",
            file=sys.stderr,
        )
    for mid, why in result.not_replied:
        print(f"no reply to {mid}: {why}", file=sys.stderr)
    for mid in planned.missing:
        print(f"skipped {mid}: no longer in the inbox", file=sys.stderr)
    print(result.summary() + ("; `cminbox undo` takes back its triage in one step" if result.act else ""))
    if deliveries is not None:
        print(f"sent now: {sum(d.ok for d in deliveries)} of {len(result.replies) + len(result.escalations)}")
    elif result.replies or result.escalations:
        print("queued; the running instance (or `cminbox outbox flush`) sends them")
    return 0


def _dry_run(planned: macro_run.MacroPlan, args: argparse.Namespace) -> int:
    macro = planned.macro
    if args.json:
        print(
            dumps(
                {"macro": macro.name, "dry_run": True, "steps": macro.words, "items": _plan_json(planned, args.force)}
            )
        )
        return 0
    print(f"macro {macro.name} ({macro.words}) would run on:")
    for i in planned.items:
        if i.held is not None and not args.force:
            print(f"  {i.id}: held back ({i.held.value}; --force runs it)")
            continue
        said = f"reply {i.reply!r}" if i.reply is not None else (f"no reply ({i.no_reply})" if i.no_reply else "")
        print(f"  {i.id}: {macro.words}" + (f"; {said}" if said and macro.reply is not None else ""))
    for mid in planned.missing:
        print(f"  {mid}: no longer in the inbox")
    print("(dry run: nothing was changed)")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("macros", help="list the macros (playbooks) of the config")
    p.add_argument("action", nargs="?", choices=["list"], default="list")
    p.add_argument("--json", action="store_true", help="a JSON array: name, key, description, steps")
    p.set_defaults(func=cmd_macros)

    p = sub.add_parser("macro", help="run a macro (playbook) on items: one action group, one `cminbox undo`")
    p.add_argument("name", help="the macro's name ([[macros]] name)")
    p.add_argument("ids", nargs="*", help="message ids (each may be comma-separated)")
    p.add_argument("--query", help='the items matching this filter too, e.g. "tag:outage -status:done"')
    p.add_argument(
        "--force",
        action="store_true",
        help="with several items, also run on escalated items, items assigned to someone else and items with a draft",
    )
    p.add_argument("--dry-run", action="store_true", help="say what it would do to each item; change nothing")
    p.add_argument("--queue-only", action="store_true", help="queue its replies; let the running instance send them")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_macro)
