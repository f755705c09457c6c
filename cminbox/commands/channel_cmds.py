"""poll, channels, login, config, doctor."""

from __future__ import annotations

import argparse
import asyncio
import difflib
import getpass
import json
import os
import signal
import sys
import time
from pathlib import Path

from cminbox.commands.context import Context, UsageError
from cminbox.commands.pg_cmds import doctor_store, login_store
from cminbox.commands.render import dumps
from cminbox.core import config as config_mod
from cminbox.core import config_docs, config_jsonschema, registry
from cminbox.core.channel import ChannelError, password_login_of
from cminbox.core.dispatch import Delivery
from cminbox.core.engine import Engine, build_channel
from cminbox.core.health import ChannelHealth, HealthState
from cminbox.core.outbox import OutboxStatus, is_orphaned
from cminbox.core.poller import PollReport
from cminbox.core.repair import repair_store
from cminbox.core.secrets import SecretError, keyring_set, keyring_status
from cminbox.core.segment import CorruptFileError
from cminbox.core.store import Store
from cminbox.core.when import ago


def _health_line(h: ChannelHealth, now_s: str) -> str:
    return f"{h.channel:<16} {h.state:<13} {now_s:<10} {h.reason}"


def cmd_poll(ctx: Context, args: argparse.Namespace) -> int:
    if not ctx.config.channels:
        raise UsageError(
            f"no channels are configured in {ctx.config.path}. "
            "Add one (see `cminbox config example`) or try `cminbox demo`."
        )
    engine = ctx.engine()
    if not args.once:
        return _poll_forever(engine)
    if not engine.poller_lease.acquire():
        print(f"{_other(engine)} is polling this data dir; `cminbox channels` shows its results")
        return 0

    async def run() -> tuple[list[PollReport], list[Delivery]]:
        try:
            return await engine.poll_once(), await engine.dispatcher.deliver_due()
        finally:
            await engine.aclose()

    try:
        reports, deliveries = asyncio.run(run())
    finally:
        engine.poller_lease.release()
    for r in reports:
        h = r.health
        summary = f"{len(r.new_ids)} new, {r.fetched} fetched" if h.state == HealthState.OK else h.reason
        if h.state == HealthState.OK and h.reason:
            summary += f" ({h.reason})"
        print(f"{h.channel:<16} {h.state:<13} {summary}")
    ok = all(r.health.state == HealthState.OK for r in reports)
    if deliveries:
        sent = sum(1 for d in deliveries if d.ok)
        print(f"outbox: {sent} sent, {len(deliveries) - sent} not sent")
    return 0 if ok else 1


def _other(engine: Engine) -> str:
    pid = engine.poller_pid()
    return f"another cminbox instance{f' (pid {pid})' if pid else ''}"


def _poll_forever(engine: Engine) -> int:
    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if engine.poller_pid() is not None:
            # Only one instance polls a data dir: this one waits, and takes over when that one stops.
            print(f"{_other(engine)} is polling; standing by (Ctrl-C to stop)", file=sys.stderr, flush=True)
        try:
            await engine.run(stop, on_active=lambda: print("polling; Ctrl-C to stop", file=sys.stderr, flush=True))
        finally:
            await engine.aclose()

    asyncio.run(run())
    return 0


def cmd_channels(ctx: Context, args: argparse.Namespace) -> int:
    now = ctx.clock()
    rows = []
    for ch in ctx.config.channels:
        h = ChannelHealth.from_doc(ctx.store.get_health(ch.name), ch.name)
        if not ch.enabled:
            h.state, h.reason = HealthState.DISABLED, "disabled in the config"
        rows.append((ch, h))
    if args.json:
        print(dumps([{"name": c.name, "type": c.type, "url": c.url, **h.to_doc()} for c, h in rows]))
        return 0
    print(f"{'CHANNEL':<16} {'TYPE':<10} {'STATE':<13} {'LAST OK':<8} REASON")
    for c, h in rows:
        last = ago(h.last_success, now) if h.last_success else "never"
        print(f"{c.name:<16} {c.type:<10} {h.state:<13} {last:<8} {h.reason}")
    if not rows:
        print("(no channels configured)")
    return 0 if all(h.state in (HealthState.OK, HealthState.DISABLED, HealthState.UNKNOWN) for _, h in rows) else 1


def cmd_login(ctx: Context, args: argparse.Namespace) -> int:
    if args.channel == "store" and not ctx.config.has_channel("store"):
        return login_store(ctx, args.from_env)
    cfg = ctx.config.channel(args.channel)
    cls = registry.load_channel(cfg.type)
    if not cls.traits.needs_secret:
        raise UsageError(f"a {cfg.type} channel needs no credentials: there is nothing to store for {cfg.name!r}")
    status = keyring_status()
    if not status.usable:
        raise SecretError(f"cannot store a token for {cfg.name!r}: {status.problem}")
    if cfg.token_command:
        print(f"note: channel {cfg.name!r} has token_command set, which takes precedence over the keyring")
    token: str | None
    if args.password:
        token = _password_login(ctx, cfg.name, args.from_env)
    else:
        prompt = f"{cls.traits.secret_label} for {cfg.name} ({cfg.url}): "
        token = os.environ.get("CMINBOX_TOKEN") if args.from_env else getpass.getpass(prompt)
    token = (token or "").strip()
    if not token:
        raise UsageError("no token entered; nothing was stored")
    keyring_set(cfg.name, token)
    print(f"stored the token for {cfg.name!r} in the keyring ({status.backend})")
    if args.no_check:
        return 0
    return _check_channel(ctx, cfg.name)


def _password_login(ctx: Context, name: str, from_env: bool) -> str:
    """Log in once with the account's password; only the access token it yields is kept."""
    cfg = ctx.config.channel(name)
    channel = build_channel(cfg, ctx.secrets, ctx.clock)
    login = password_login_of(channel)
    if login is None:
        raise UsageError(f"a {cfg.type} channel has no password login; store its token with `cminbox login {name}`")
    password = os.environ.get("CMINBOX_PASSWORD") if from_env else getpass.getpass(f"Password for {cfg.account}: ")
    if not password:
        raise UsageError("no password entered; nothing was stored")
    # Some logins need more than a password (Reddit: the app's client secret). Each is asked
    # for without echo, or read from CMINBOX_<NAME> with --from-env.
    extra: dict[str, str] = {}
    for field in channel.traits.login_secrets:
        label = field.replace("_", " ")
        value = os.environ.get(f"CMINBOX_{field.upper()}") if from_env else getpass.getpass(f"{label.capitalize()}: ")
        if not value:
            raise UsageError(f"no {label} entered; nothing was stored")
        extra[field] = value

    async def run() -> str:
        try:
            return str(await asyncio.wait_for(login(cfg.account, password, **extra), timeout=30))
        finally:
            await channel.aclose()

    try:
        return asyncio.run(run())
    except (ChannelError, TimeoutError) as exc:
        raise UsageError(f"login failed: {getattr(exc, 'reason', None) or exc or 'timed out'}") from None


def _check_channel(ctx: Context, name: str) -> int:
    cfg = ctx.config.channel(name)
    channel = build_channel(cfg, ctx.secrets, ctx.clock)

    async def run() -> str:
        try:
            me = await asyncio.wait_for(channel.whoami(), timeout=30)
            return me.handle
        finally:
            await channel.aclose()

    try:
        handle = asyncio.run(run())
    except (ChannelError, SecretError, TimeoutError) as exc:
        print(f"  {name}: FAIL  {getattr(exc, 'reason', None) or exc or 'timed out'}")
        return 1
    if registry.load_channel(cfg.type).traits.needs_secret:
        print(f"  {name}: ok    authorised as {handle}")
    else:
        print(f"  {name}: ok    reachable: {handle}")
    return 0


def cmd_config(ctx: Context, args: argparse.Namespace) -> int:
    if args.action == "example":
        print(config_docs.example(), end="")
        return 0
    if args.action == "schema":
        print(json.dumps(config_jsonschema.schema(), indent=2, ensure_ascii=False))
        return 0
    if args.action == "docs":
        print(config_docs.docs_table(), end="")
        return 0
    if args.action == "path":
        print(config_mod.config_path(args.config))
        return 0
    path = config_mod.config_path(args.config)
    if not path.exists():
        raise config_mod.ConfigError(
            path, None, None, "the file does not exist.", "Create it with `cminbox config example > FILE`."
        )
    cfg = config_mod.load(path)
    _check_theme(path, cfg.ui.theme)
    print(f"{path}: OK ({len(cfg.channels)} channel(s), {len(cfg.targets)} escalation target(s))")
    return 0


def _check_theme(path: Path, name: str) -> None:
    """`[ui] theme` names a theme the TUI has: a theme file (shipped or yours) or one of
    Textual's built-in ones, which the theme picker offers too. Checked here, not when the
    config loads: the themes are read from their files and Textual's (the TUI said it at start,
    after `config check` had passed it: new-user trial of 2026-12-01)."""
    from textual.theme import BUILTIN_THEMES

    from cminbox.core.config_where import locate_keys
    from cminbox.tui.themes import load_themes

    themes, _problems = load_themes()
    known = {theme.name for theme in themes} | set(BUILTIN_THEMES)
    if not name or name in known:  # empty: the default theme
        return
    close = difflib.get_close_matches(name, sorted(known), n=1)
    line = locate_keys(path.read_text(encoding="utf-8")).get(("ui", "theme"))
    raise config_mod.ConfigError(
        path,
        line,
        "ui.theme",
        f"no theme named {name!r}.",
        (f"Did you mean {close[0]!r}? " if close else "") + f"Themes: {', '.join(sorted(known))}.",
    )


def cmd_doctor(ctx: Context, args: argparse.Namespace) -> int:
    problems = 0

    def line(ok: bool, what: str, detail: str = "") -> None:
        nonlocal problems
        problems += not ok
        print(f"{'ok  ' if ok else 'FAIL'}  {what}" + (f": {detail}" if detail else ""))

    try:
        cfg = ctx.config
        line(True, "config", f"{cfg.path} ({'found' if cfg.path and cfg.path.exists() else 'absent: no channels'})")
    except config_mod.ConfigError as exc:
        line(False, "config", str(exc))
        return 1
    status = keyring_status()
    needs_keyring = any(not c.token_command and registry.load_channel(c.type).traits.needs_secret for c in cfg.channels)
    keyring_text = status.backend + (f" — {status.problem}" if status.problem else "")
    if status.usable or needs_keyring:
        line(status.usable, "keyring", keyring_text)
    else:
        # Nothing configured needs it today, so it is not a failure (the demo's config, a
        # setup on token_command only: a new-user trial of 2026-12-01 saw "2 problem(s)" on a
        # demo that worked), but `cminbox login` and a channel added without token_command will.
        print(
            f"warn  keyring: {keyring_text} (every channel uses token_command, so polling works;"
            " `cminbox login` and a channel without token_command need a keyring)"
        )
    line(True, "channel types", ", ".join(registry.channel_types()))
    if not doctor_store(ctx, line):
        print(f"\n{problems} problem(s) found")
        return 1
    try:
        ctx.data_dir.mkdir(parents=True, exist_ok=True)
        probe = ctx.data_dir / f".doctor-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
        line(True, "data dir writable", str(ctx.data_dir))
    except OSError as exc:
        line(False, "data dir writable", f"{ctx.data_dir}: {exc}")
        return 1
    started = time.perf_counter()
    ctx.report_store_problems = False
    store = ctx.store
    # File problems can be repaired (TinyDB's doctor --repair); other backends' are reported.
    problems_found: dict[Path, str] = dict(store.file_problems) if isinstance(store, Store) else {}
    reported = {} if isinstance(store, Store) else dict(store.problems)
    try:
        ctx.outbox.items()
    except CorruptFileError as exc:
        problems_found[exc.path] = str(exc)
    line(True, "store", f"{len(store.message_ids())} messages, loaded in {time.perf_counter() - started:.2f} s")
    if args.repair and problems_found and isinstance(store, Store):
        repaired, rewound = repair_store(store, problems_found)
        for result in repaired:
            # Data lost is a problem even once repaired: never "all good" after it.
            line(not result.lost_data, "store repaired", result.describe())
        line(True, "store after repair", f"{len(store.message_ids())} messages")
        if rewound:
            print(
                f"note  poll cursor rewound for {', '.join(rewound)}: the next poll fetches their recent "
                "messages again (their triage state is kept and reattaches)"
            )
    else:
        for _path, what in sorted(problems_found.items()):
            line(False, "store file", what)
    for _where, what in sorted(reported.items()):
        line(False, "store", what)
    problems += _doctor_outbox(ctx)
    for ch in cfg.channels:
        if not ch.enabled:
            print(f"skip  {ch.name}: disabled")
            continue
        failed = _check_channel(ctx, ch.name)
        problems += failed
        # Reachable now is not the whole story: the last poll may have failed (a bad page, a quota).
        h = ChannelHealth.from_doc(store.get_health(ch.name), ch.name)
        if not failed and h.state in (HealthState.DEGRADED, HealthState.RATE_LIMITED, HealthState.AUTH_FAILED):
            until = f"; next attempt {h.next_attempt:%Y-%m-%d %H:%M} UTC" if h.next_attempt else ""
            line(False, f"{ch.name} last poll", f"{h.state}: {h.reason}{until}")
    for t in cfg.targets:
        line(True, f"escalation target {t.name}", f"{t.type} → {t.url}")
    print("\nall good" if not problems else f"\n{problems} problem(s) found")
    return 0 if not problems else 1


def _doctor_outbox(ctx: Context) -> int:
    """Outbox items that need the user: stuck mid-send, or failed for good. Returns the problems."""
    try:
        items = ctx.outbox.items()
    except CorruptFileError:
        return 0  # reported (or repaired) with the store files
    now = ctx.clock()
    stuck = [i.id for i in items if is_orphaned(i, now)]
    failed = [i.id for i in items if i.status == OutboxStatus.FAILED]
    if stuck:
        print(
            f"FAIL  outbox: {len(stuck)} item(s) stuck in 'sending' ({', '.join(stuck[:5])}): the sender stopped "
            "mid-send; `cminbox outbox flush` sends them again with the same key (never twice)"
        )
    if failed:
        print(
            f"FAIL  outbox: {len(failed)} failed item(s) ({', '.join(failed[:5])}): `cminbox outbox` shows why, "
            "`cminbox outbox retry ID` queues one again"
        )
    if not stuck and not failed:
        done = (OutboxStatus.SENT, OutboxStatus.WITHDRAWN)
        print(f"ok    outbox: {sum(i.status not in done for i in items)} item(s) waiting to be sent")
    return bool(stuck) + bool(failed)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("poll", help="poll the channels (--once: one round, then exit)")
    p.add_argument("--once", action="store_true")
    p.set_defaults(func=cmd_poll)

    p = sub.add_parser("channels", help="channel health table")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_channels)

    p = sub.add_parser(
        "login", help="store a channel's token (or, as `login store`, the database password) in the keyring"
    )
    p.add_argument("channel")
    p.add_argument(
        "--from-env", action="store_true", help="read the token ($CMINBOX_TOKEN) or password ($CMINBOX_PASSWORD)"
    )
    p.add_argument("--password", action="store_true", help="log in with the password once and keep only the token")
    p.add_argument("--no-check", action="store_true", help="do not test the token against the server")
    p.set_defaults(func=cmd_login)

    p = sub.add_parser(
        "config",
        help="check the config, print a commented example, its JSON Schema (for editors), "
        "its key table (Markdown), or show its path",
    )
    p.add_argument("action", choices=["check", "example", "schema", "docs", "path"])
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("doctor", help="check config, keyring, data dir, store and every channel")
    p.add_argument("--repair", action="store_true", help="move an unloadable store file aside (kept as a backup)")
    p.set_defaults(func=cmd_doctor)
