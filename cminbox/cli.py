"""The `cminbox` command: the inbox by default, plus headless subcommands for scripts and cron."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from cminbox import __version__

if TYPE_CHECKING:
    from cminbox.commands.context import Context

# Nothing heavy at the top: `cminbox --version` imports only this module (an import budget
# test keeps it so), and every command imports what it needs when it runs.
log = logging.getLogger("cminbox.cli")

# Commands that must work whatever state the config file is in.
CONFIG_FREE = frozenset({"config", "demo", "demo-server"})
# Commands that open the inbox: the start-up pause lasts until its first rows are drawn.
TUI_COMMANDS = frozenset({None, "demo"})
EXIT_ERROR = 1
EXIT_CONFIG = 2


# Which module registers each command, in the order `cminbox --help` lists them. A call
# imports only its own command's module: all of them cost ~40 ms of imports that a script
# tagging fifty items one call at a time would pay fifty times. tests/test_cli_lazy.py keeps
# this table equal to what the modules register.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "triage_cmds": ("assign", "list", "note", "priority", "show", "snooze", "status", "tag", "undo", "untag"),
    "outbox_cmds": ("escalate", "moderate", "outbox", "reply"),
    "channel_cmds": ("channels", "config", "doctor", "login", "poll"),
    "demo_cmds": ("demo", "demo-server"),
    "store_cmds": ("archive", "export", "import"),
    "events_cmds": ("events",),
    "team_cmds": ("who",),
    "move_cmds": ("store",),
    "people_cmds": ("people",),
    "rules_cmds": ("rules",),
    "macro_cmds": ("macro", "macros"),
    "guideline_cmds": ("follow-up", "guidelines"),
    "community_cmds": ("answer",),
}
_MODULE_OF = {command: module for module, commands in COMMAND_MODULES.items() for command in commands}


def _global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="config file (default: $CMINBOX_CONFIG or the platform config dir)")
    parser.add_argument("--data-dir", help="data directory (default: $CMINBOX_DATA_DIR or the platform data dir)")
    parser.add_argument("--theme", help="TUI theme (cminbox-dark, cminbox-light, high-contrast, incident, ...)")
    parser.add_argument("--no-mouse", action="store_true", help="TUI: no mouse reporting (less traffic on slow links)")


class _Quiet(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ValueError(message)


def modules_for(argv: Sequence[str]) -> list[str]:
    """The command modules ``argv`` needs: its command's; none for the inbox (no command);
    every one for help or a word that is not a command (argparse then lists them all)."""
    pre = _Quiet(add_help=False)
    _global_options(pre)
    try:
        _, rest = pre.parse_known_args(list(argv))
    except ValueError:  # a global option without its value: the full parser reports it
        return list(COMMAND_MODULES)
    if not rest:
        return []
    return [_MODULE_OF[rest[0]]] if rest[0] in _MODULE_OF else list(COMMAND_MODULES)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv`` (every command when None): only the modules it needs."""
    import importlib

    modules = list(COMMAND_MODULES) if argv is None else modules_for(argv)
    parser = argparse.ArgumentParser(
        prog="cminbox",
        description="A keyboard-first terminal inbox for community managers.",
        epilog=(
            "With no command: the inbox (with no channel configured, a first-run screen offers "
            "the demo community or setting one up)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"cminbox {__version__}")
    _global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in modules:
        importlib.import_module(f"cminbox.commands.{name}").register(sub)
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
    # No garbage collections while the modules, the config and (for the inbox) the first
    # screen are built: ~80 ms of a 10k inbox's start (core/gc_pause.py). A command ends the
    # pause once it is parsed; the inbox when its first rows are drawn; every call on exit.
    from cminbox.core import gc_pause

    gc_pause.hold_start_up()
    out, err = sys.stdout, sys.stderr  # a command's own are made inert in _main: put back after
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = out, err
        gc_pause.end_start_up()


def _main(argv: Sequence[str] | None) -> int:
    from cminbox.commands.context import Context, setup_logging
    from cminbox.core import gc_pause
    from cminbox.core.config import ConfigError
    from cminbox.core.errors import ENVIRONMENT_ERRNOS, CminboxError, from_os_error
    from cminbox.core.redact import redactor

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    setup_logging()
    ctx = Context(args)
    func = getattr(args, "func", default_command)
    if args.command not in TUI_COMMANDS:
        gc_pause.end_start_up()  # its modules are imported; what it builds next is its own
    if args.command not in TUI_COMMANDS:  # (the TUI draws through Textual, with its own guard)
        from cminbox.commands.inert_output import InertStream

        sys.stdout, sys.stderr = InertStream(sys.stdout), InertStream(sys.stderr)
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
    from cminbox.core.config import log_path
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
