"""reply, escalate and outbox: everything that leaves cminbox goes through the durable outbox."""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from cminbox.commands.context import Context, UsageError
from cminbox.commands.render import dumps
from cminbox.commands.triage_cmds import _priority
from cminbox.core import collision, saved_replies
from cminbox.core.dispatch import Delivery
from cminbox.core.inbox import InboxError
from cminbox.core.models import Message
from cminbox.core.outbox import OutboxItem, OutboxStatus
from cminbox.core.reply_template import read_back, template
from cminbox.core.text import one_line
from cminbox.core.when import clock_time


def deliver_now(ctx: Context, *, everything: bool = False) -> list[Delivery] | None:
    """Send what is due, if no other instance is the active sender. None means "left to it".
    One claimed batch (what a reply just queued needs), or with ``everything`` all that is due
    (Dispatcher.deliver_all_due: `outbox flush`)."""
    engine = ctx.engine()
    if not engine.poller_lease.acquire():
        return None

    async def run() -> list[Delivery]:
        try:
            dispatcher = engine.dispatcher
            return await (dispatcher.deliver_all_due() if everything else dispatcher.deliver_due())
        finally:
            await engine.aclose()

    try:
        return asyncio.run(run())
    finally:
        engine.poller_lease.release()


def _left_to(ctx: Context) -> str:
    """Who will send what was queued and not sent now: say the truth about it."""
    pid = ctx.poller_pid()
    if pid is None:
        return "no cminbox is running to send it: `cminbox outbox flush` or `cminbox poll` sends it"
    return f"the running cminbox instance{f' (pid {pid})' if pid else ''} will send it"


def _print_outcome(ctx: Context, item: OutboxItem, deliveries: list[Delivery] | None) -> int:
    if deliveries is None:
        print(f"queued {item.kind} {item.id}; {_left_to(ctx)}")
        return 0
    mine = next((d for d in deliveries if d.item.id == item.id), None)
    if mine is None:
        current = ctx.outbox.get(item.id)
        print(f"queued {item.kind} {item.id} ({current.status if current else 'unknown'})")
        return 0
    if mine.ok:
        print(f"sent {item.kind} {item.id}: {mine.detail}")
        return 0
    current = ctx.outbox.get(item.id)
    if current is not None and current.status == OutboxStatus.FAILED:
        print(f"failed {item.kind} {item.id}: {mine.detail}")
        return 1
    when = f" at {clock_time(current.next_attempt_at, ctx.clock())}" if current and current.next_attempt_at else ""
    print(f"queued {item.kind} {item.id}; sending failed ({mine.detail}), will retry{when}")
    return 0


def _editor_text(ctx: Context, message_id: str) -> str:
    msg = ctx.store.get_message(message_id)
    assert msg is not None
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w+", suffix=".md", prefix="cminbox-reply-", delete=False) as fh:
        fh.write(template(ctx.store.get_draft(message_id), msg))
        path = Path(fh.name)
    try:
        done = subprocess.run([*shlex.split(editor), str(path)], check=False)
        if done.returncode != 0:
            raise UsageError(f"the editor ({editor}) exited with status {done.returncode}; nothing was queued")
        edited = read_back(path.read_text(encoding="utf-8"), msg)
    finally:
        path.unlink(missing_ok=True)
    if edited.kept_below:
        print(f"note: kept {edited.kept_below} line(s) written below the marker in the reply", file=sys.stderr)
    return edited.text


def _official(ctx: Context, mid: str) -> list[Message]:
    """The staff accounts' replies in the item's conversation (replies made on the channel)."""
    staff = collision.staff_handles(ctx.config.channels)
    message = ctx.store.get_message(mid) if staff else None
    return collision.official_replies(ctx.store.thread_of(message), message, staff) if message else []


def _refuse_collision(ctx: Context, since: collision.ReplyMark, text: str, not_by: str) -> None:
    """Another reply to the item since ``since``: refuse (the text stays the draft) unless --force."""
    others = collision.answers_since(ctx.outbox, since, not_by=not_by, official=_official(ctx, since.message_id))
    if not others:
        return
    ctx.store.set_draft(since.message_id, text)
    said = "\n".join(f"  {collision.describe_answer(answer, ctx.clock())}" for answer in others)
    raise UsageError(
        f"{since.message_id} got another reply meanwhile:\n{said}\n"
        "nothing was queued (your text is the item's draft); `--force` sends yours anyway"
    )


def _check_mentions(ctx: Context, mid: str, text: str, *, force: bool) -> None:
    """Mentions of people outside the thread: a warning on stderr; refused (the text kept as
    the draft) when the reply is private and would let them read it, unless --force."""
    message = ctx.store.get_message(mid)
    if message is None:
        return  # Inbox.reply says so
    check = ctx.inbox.send_check(message, text, ctx.store.thread_of(message))
    if check.holds and not force:
        ctx.store.set_draft(mid, text)
        raise UsageError(
            f"{check.warnings[0]}; nothing was queued (your text is the item's draft); `--force` sends it anyway"
        )
    for warning in check.warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _saved(ctx: Context, mid: str, name: str) -> str:
    """The saved reply ``name`` expanded for the item (refused with the names when unknown)."""
    replies = {r.name: r.text for r in ctx.config.saved_replies}
    if name not in replies:
        known = ", ".join(replies) or "none: add [[saved_replies]] (name, text) to the config"
        raise UsageError(f"no saved reply named {name!r} (saved replies: {known})")
    message = ctx.store.get_message(mid)
    if message is None:
        raise UsageError(f"no message {mid}")
    return saved_replies.expand(replies[name], saved_replies.Context(message, ctx.config.actor))


def cmd_reply(ctx: Context, args: argparse.Namespace) -> int:
    [mid] = ctx.resolve(args.id)
    if args.saved is not None:  # the same checks as typed text: collision (recent replies), length
        args.text = _saved(ctx, mid, args.saved)
    official = _official(ctx, mid)
    if args.text is not None:
        since = collision.mark(ctx.outbox, mid, before=ctx.clock() - collision.RECENT, official=official)
    else:  # what was replied before the editor opened is what you answered after
        since = collision.mark(ctx.outbox, mid, official=official)
    text = args.text if args.text is not None else _editor_text(ctx, mid)
    if not text.strip():
        raise UsageError("the reply is empty; nothing was queued")
    if not args.force:
        _refuse_collision(ctx, since, text, ctx.config.actor if args.text is not None else "")
    _check_mentions(ctx, mid, text, force=args.force)
    if args.text is not None:
        item = ctx.inbox.reply(mid, text)
    else:  # written in the editor, from the item's draft: a refused reply stays the draft
        try:
            item = ctx.inbox.reply(mid, text)
        except InboxError as exc:
            ctx.store.set_draft(mid, text)
            raise InboxError(f"{exc}; your text is kept as the item's draft (`--editor` opens it again)") from None
        ctx.store.set_draft(mid, "")
    return _print_outcome(ctx, item, None if args.queue_only else deliver_now(ctx))


def cmd_escalate(ctx: Context, args: argparse.Namespace) -> int:
    ids = ctx.resolve(args.id)
    _, items = ctx.inbox.escalate(ids, args.to, _priority(args.priority), args.note or "")
    deliveries = None if args.queue_only else deliver_now(ctx)
    return max((_print_outcome(ctx, item, deliveries) for item in items), default=0)


def cmd_moderate(ctx: Context, args: argparse.Namespace) -> int:
    if args.guideline or args.json:  # with a guideline follow-up, or as JSON: guideline_cmds
        from cminbox.commands.guideline_cmds import cmd_moderate_with_guideline

        return cmd_moderate_with_guideline(ctx, args)
    ids = ctx.resolve(args.id)
    items = ctx.inbox.moderate(ids, args.action, args.reason or "")
    deliveries = None if args.queue_only else deliver_now(ctx)
    return max((_print_outcome(ctx, item, deliveries) for item in items), default=0)


def cmd_outbox(ctx: Context, args: argparse.Namespace) -> int:
    if args.action == "retry":
        if not args.item:
            raise UsageError("`cminbox outbox retry ITEM` needs an outbox item id")
        found = ctx.outbox.get(args.item)
        if found is None:
            raise UsageError(f"no outbox item {args.item!r}")
        ctx.outbox.retry(found.id)
        print(f"re-queued {found.id}")
        return 0
    if args.action == "flush":
        deliveries = deliver_now(ctx, everything=True)
        if deliveries is None:
            pid = ctx.poller_pid()
            print(f"another cminbox instance{f' (pid {pid})' if pid else ''} is sending; it will deliver the queue")
            return 0
        for d in deliveries:
            print(f"{'sent' if d.ok else 'not sent'} {d.item.kind} {d.item.id}: {d.detail}")
        print(f"{sum(d.ok for d in deliveries)} sent, {sum(not d.ok for d in deliveries)} not sent")
        return 0 if all(d.ok for d in deliveries) else 1
    items = ctx.outbox.items()
    if not args.all:  # what still needs something: pending, sending, failed (as the README says)
        items = [i for i in items if i.status not in (OutboxStatus.SENT, OutboxStatus.WITHDRAWN)]
    if args.json:
        import msgspec

        print(dumps([msgspec.to_builtins(i) for i in items]))
        return 0
    for i in items:
        action = " ".join(str(i.payload.get(k) or "") for k in ("action", "reason")).strip()
        what = one_line(str(i.payload.get("text") or i.payload.get("note") or action), 40)
        extra = i.last_error if i.status != OutboxStatus.SENT else i.result.get("url", "")
        print(
            f"{i.id}  {i.status:<8} {i.kind:<10} {i.destination:<12} {i.message_id:<28} tries={i.attempts} "
            f"{what}  {one_line(extra, 60)}"
        )
    if not items:
        print("(the outbox is empty)" if args.all else "(nothing pending or failed; `--all` lists the sent items too)")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("reply", help="reply to a message (through the outbox; sent exactly once)")
    p.add_argument("id")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text")
    src.add_argument("--editor", action="store_true", help="write the reply in $VISUAL / $EDITOR")
    src.add_argument(
        "--saved", metavar="NAME", help="a saved reply ([[saved_replies]]), its variables filled in for the item"
    )
    p.add_argument("--queue-only", action="store_true", help="queue it; let the running instance send it")
    p.add_argument(
        "--force",
        action="store_true",
        help="send even when someone else replied to it meanwhile, or when it would add people outside a private "
        "conversation (else refused)",
    )
    p.set_defaults(func=cmd_reply)

    p = sub.add_parser(
        "moderate", help="a moderation action on the item's channel (lock, hide, remove, approve, flag, close, ...)"
    )
    p.add_argument("id", help="message id (several: comma-separated)")
    p.add_argument("action", help="one the channel offers (an action it lacks is refused with the list)")
    p.add_argument("--reason", help="the reason or guideline, where the channel takes one")
    p.add_argument("--queue-only", action="store_true", help="queue it; let the running instance run it")
    p.add_argument(
        "--guideline", metavar="NAME", help="the [[guidelines]] that applied: its author is told (a DM, else a reply)"
    )
    p.add_argument("--no-follow-up", action="store_true", help="with --guideline: record it, do not tell the author")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_moderate)

    p = sub.add_parser("escalate", help="escalate to a configured target (through the outbox)")
    p.add_argument("id")
    p.add_argument("--to", required=True, help="an [[escalation.targets]] name")
    p.add_argument("--priority", default="high")
    p.add_argument("--note")
    p.add_argument("--queue-only", action="store_true")
    p.set_defaults(func=cmd_escalate)

    p = sub.add_parser("outbox", help="list queued, failed and sent items; retry or flush")
    p.add_argument("action", nargs="?", choices=["list", "retry", "flush"], default="list")
    p.add_argument("item", nargs="?")
    p.add_argument("--all", action="store_true", help="the sent items too")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_outbox)
