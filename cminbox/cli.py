"""The `cminbox` command: the inbox by default, plus headless subcommands for scripts and cron."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cminbox import __version__

if TYPE_CHECKING:
    from cminbox.commands.context import Context

# Nothing heavy at the top: `cminbox --version` imports only this module (an import budget
# test keeps it so), and every command imports what it needs when it runs.
log = logging.getLogger("cminbox.cli")

# Commands that must work whatever state the config file is in.
CONFIG_FREE = frozenset({"config", "demo", "demo-server"})
EXIT_ERROR = 1
EXIT_CONFIG = 2


def build_parser() -> argparse.ArgumentParser:
    from cminbox.commands import (
        channel_cmds,
        community_cmds,
        demo_cmds,
        events_cmds,
        guideline_cmds,
        macro_cmds,
        move_cmds,
        outbox_cmds,
        people_cmds,
        rules_cmds,
        store_cmds,
        team_cmds,
        triage_cmds,
    )

    parser = argparse.ArgumentParser(
        prog="cminbox",
        description="A keyboard-first terminal inbox for community managers.",
        epilog="With no command: the inbox (the demo community when no channel is configured).",
    )
    parser.add_argument("--version", action="version", version=f"cminbox {__version__}")
    parser.add_argument("--config", help="config file (default: $CMINBOX_CONFIG or the platform config dir)")
    parser.add_argument("--data-dir", help="data directory (default: $CMINBOX_DATA_DIR or the platform data dir)")
    parser.add_argument("--theme", help="TUI theme (cminbox-dark, cminbox-light, high-contrast, incident, ...)")
    parser.add_argument("--no-mouse", action="store_true", help="TUI: no mouse reporting (less traffic on slow links)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    triage_cmds.register(sub)
    outbox_cmds.register(sub)
    channel_cmds.register(sub)
    demo_cmds.register(sub)
    store_cmds.register(sub)
    events_cmds.register(sub)
    team_cmds.register(sub)
    move_cmds.register(sub)
    people_cmds.register(sub)
    rules_cmds.register(sub)
    macro_cmds.register(sub)
    guideline_cmds.register(sub)
    community_cmds.register(sub)
    return parser


def default_command(ctx: Context, args: argparse.Namespace) -> int:
    """The inbox TUI; with no channel configured, the first-run screen (demo or guided setup)."""
    from cminbox.tui import launch

    if not ctx.config.channels:
        return launch.run_first_run(ctx.setup(), args)
    return launch.run_inbox(ctx.setup(), args)


def main(argv: Sequence[str] | None = None) -> int:
    if list(sys.argv[1:] if argv is None else argv) == ["--version"]:  # what scripts ask most: at once
        print(f"cminbox {__version__}")
        return 0
    from cminbox.commands.context import Context, setup_logging
    from cminbox.core.config import ConfigError
    from cminbox.core.errors import ENVIRONMENT_ERRNOS, CminboxError, from_os_error
    from cminbox.core.redact import redactor

    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging()
    ctx = Context(args)
    func = getattr(args, "func", default_command)
    try:
        if args.command not in CONFIG_FREE:
            ctx.config  # noqa: B018 - a malformed config must stop every command, not be ignored
        return int(func(ctx, args) or 0)
    except ConfigError as exc:
        print(f"cminbox: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except CminboxError as exc:
        print(f"cminbox: {redactor.redact(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # `cminbox list | head` closes the pipe early: not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        if exc.errno not in ENVIRONMENT_ERRNOS:
            return _unexpected(args, exc)
        # A file the user named (`export -o`), or one a library opened: the machine, not a bug.
        print(f"cminbox: {redactor.redact(str(from_os_error(exc)))}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return _unexpected(args, exc)


def _unexpected(args: argparse.Namespace, exc: BaseException) -> int:
    """A bug: say where the details are and ask for a report."""
    from cminbox.commands.context import log_path
    from cminbox.core.redact import redactor

    log.error("unexpected error in %s", getattr(args, "command", None), exc_info=exc)
    print(
        f"cminbox: internal error ({type(exc).__name__}: {redactor.redact(str(exc))[:200]}). "
        f"Details are in {log_path()}; please report it.",
        file=sys.stderr,
    )
    if os.environ.get("CMINBOX_DEBUG"):
        print(redactor.redact("".join(traceback.format_exception(exc))), file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
