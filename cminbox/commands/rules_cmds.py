"""rules list|test|apply|undo: the ``[[rules]]`` of the config, on the stored items.

The rules themselves run in the core (core/rules*.py): at ingest by whichever instance polls,
and here on items already stored. ``test`` writes nothing; ``apply`` and ``undo`` write like any
action (history lines, events), ``undo`` as the person running it.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta
from typing import Any

from cminbox.commands.context import Context, UsageError
from cminbox.commands.render import clean, dumps
from cminbox.core.query import QueryError
from cminbox.core.query import parse as parse_query
from cminbox.core.rules import Rule
from cminbox.core.rules_plan import Outcome
from cminbox.core.rules_run import SINCE_KEY, RuleRunner
from cminbox.core.rules_undo import undo_item, undo_rule
from cminbox.core.text import one_line
from cminbox.core.when import parse_duration


def _runner(ctx: Context) -> RuleRunner:
    if not ctx.config.rules:
        raise UsageError("no rules configured.", "Add [[rules]] to the config (README: Rules).")
    return RuleRunner(ctx.config, ctx.store, ctx.clock)


def _duration(value: str, flag: str) -> timedelta:
    found = parse_duration(value)
    if found is None:
        raise UsageError(f"{flag} takes a duration (30m, 2h, 7d), not {value!r}")
    return found


def effects_of(rule: Rule) -> list[str]:
    """What a rule does, in the words of the config."""
    out = [f"tag {' '.join(rule.tags)}"] if rule.tags else []
    out += [f"untag {' '.join(rule.untags)}"] if rule.untags else []
    out += [f"priority {rule.priority}"] if rule.priority else []
    out += [f"assign {rule.assign}"] if rule.assign else []
    out += [f"status {rule.status}"] if rule.status else []
    out += [f"snooze {rule.snooze}"] if rule.snooze else []
    out += [f"mute ({rule.mute})"] if rule.mute else []
    out += [f"escalate {rule.escalate}"] if rule.escalate else []
    out += [f"auto-reply “{rule.reply}”"] if rule.reply else []
    out += ["stop"] if rule.stop else []
    return out


def cmd_list(ctx: Context, args: argparse.Namespace) -> int:
    runner = _runner(ctx)
    rows: list[dict[str, Any]] = []
    for rule in runner.rules:
        since = ctx.store.get_cursor(SINCE_KEY + rule.name) if rule.reply else None
        rows.append(
            {
                "rule": rule.name,
                "when": rule.when.text,
                "effects": effects_of(rule),
                "reads_people": rule.reads_people,
                "auto_reply": rule.reply or None,
                # An auto-reply answers items newer than this (set when the rule first ran).
                "replies_since": (since or {}).get("since"),
            }
        )
    if args.json:
        print(dumps(rows))
        return 0
    for r in rows:
        more = f"   (replies to items since {r['replies_since']})" if r["replies_since"] else ""
        print(f"{r['rule']:<20} when {r['when']}\n{'':<20} → {'; '.join(r['effects'])}{more}")
    return 0


def outcome_json(outcome: Outcome, rules: list[Rule]) -> dict[str, Any]:
    return {
        "items": outcome.items,
        "rules": [
            {
                "rule": r.name,
                "matched": outcome.matched[r.name],
                "changed": outcome.changed[r.name],
                "replies": outcome.replies[r.name],
                "sample": [
                    {"id": s.message_id, "text": s.text, "effect": s.label} for s in outcome.samples.get(r.name, [])
                ],
            }
            for r in rules
        ],
        "warnings": [{"rule": w.rule, "id": w.message_id, "problem": w.problem} for w in outcome.warnings],
    }


def _print_outcome(outcome: Outcome, rules: list[Rule], changed_word: str) -> None:
    print(f"{outcome.items} item(s)")
    print(f"{'rule':<20} {'matched':>8} {changed_word:>12} {'replies':>8}")
    for r in rules:
        print(f"{r.name:<20} {outcome.matched[r.name]:>8} {outcome.changed[r.name]:>12} {outcome.replies[r.name]:>8}")
        for s in outcome.samples.get(r.name, []):
            effect = f"  → {s.label.partition(': ')[2]}" if s.label else "  (nothing to change)"
            print(f"    {s.message_id}  {one_line(clean(s.text), 60)}{effect}")
    for w in outcome.warnings:
        print(f"cminbox: warning: rule {w.rule} skipped on {w.message_id}: {w.problem}", file=sys.stderr)


def cmd_test(ctx: Context, args: argparse.Namespace) -> int:
    runner = _runner(ctx)
    rules = runner.named(args.rule or [])
    since = ctx.clock() - _duration(args.since, "--since")
    items = [(m, s) for m, s in ctx.store.query(staff=runner.staff) if m.created_at >= since]
    outcome = runner.test(items, rules)
    if args.json:
        print(dumps({**outcome_json(outcome, rules), "since": since.isoformat(), "dry_run": True}))
        return 0
    print(f"dry run: nothing is written; items created since {since:%Y-%m-%d %H:%M} UTC")
    _print_outcome(outcome, rules, "would change")
    return 0


def cmd_apply(ctx: Context, args: argparse.Namespace) -> int:
    runner = _runner(ctx)
    rules = runner.named(args.rule or [])
    try:
        query = parse_query(args.query)
    except QueryError as exc:
        raise UsageError(f"--query: {exc}") from None
    ids = [m.id for m, _ in ctx.store.query(where=query, me=ctx.config.actor, staff=runner.staff)]
    outcome = runner.apply(ids, rules)
    if args.json:
        print(dumps(outcome_json(outcome, rules)))
        return 0
    _print_outcome(outcome, rules, "changed")
    return 0


def cmd_undo(ctx: Context, args: argparse.Namespace) -> int:
    actor = ctx.config.actor
    if args.item:
        [mid] = ctx.resolve(args.item)
        if args.rule:
            _runner(ctx).named([args.rule])
        result = undo_item(ctx.store, mid, actor=actor, rule=args.rule)
        changed, label = ([mid], result.label) if result is not None else ([], "")
    else:
        if not args.rule or not args.since:
            raise UsageError("say which rule and since when: `cminbox rules undo NAME --since 1h` (or --item ID)")
        _runner(ctx).named([args.rule])
        since: datetime = ctx.clock() - _duration(args.since, "--since")
        bulk = undo_rule(ctx.store, args.rule, since, actor=actor)
        changed, label = bulk.changed, f"rule {args.rule} since {since:%Y-%m-%d %H:%M} UTC"
    if args.json:
        print(dumps({"rule": args.rule, "undone": label, "changed": changed}))
        return 0
    if not changed:
        print("nothing to undo" + (f" on {args.item}" if args.item else f" for rule {args.rule}"))
        return 1
    print(f"undone: {label} ({len(changed)} item(s)): {', '.join(changed[:10])}{' ...' if len(changed) > 10 else ''}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rules = sub.add_parser("rules", help="the [[rules]] of the config: list, dry run, apply, undo")
    verbs = rules.add_subparsers(dest="verb", metavar="VERB", required=True)

    p = verbs.add_parser("list", help="the rules, in the order they run, with what each does")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = verbs.add_parser("test", help="a dry run over stored items: counts and a sample per rule; writes nothing")
    p.add_argument("--since", default="7d", help="items created within this long (default 7d)")
    p.add_argument("--rule", action="append", metavar="NAME", help="only this rule (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_test)

    p = verbs.add_parser("apply", help="run the rules on stored items that match a query")
    p.add_argument("--query", required=True, help='the filter language, e.g. "age:<1d -status:done"')
    p.add_argument("--rule", action="append", metavar="NAME", help="only this rule (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_apply)

    p = verbs.add_parser("undo", help="take back what a rule did since a time (or its newest effect on one item)")
    p.add_argument("rule", nargs="?", metavar="NAME")
    p.add_argument("--since", help="what the rule did within this long (30m, 1h, 2d)")
    p.add_argument("--item", metavar="ID", help="one item: the newest rule effect on it (of NAME, if given)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_undo)
