"""A CLI call imports only its own command's module: the table saying which module registers
which command must match what the modules register, or a command would vanish."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys

import pytest

from cminbox import cli


@pytest.mark.parametrize("module", list(cli.COMMAND_MODULES))
def test_the_table_names_exactly_what_each_module_registers(module: str) -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    importlib.import_module(f"cminbox.commands.{module}").register(sub)
    assert tuple(sorted(sub.choices)) == tuple(sorted(cli.COMMAND_MODULES[module]))


def test_every_command_is_in_the_full_parser_once() -> None:
    commands = [c for cs in cli.COMMAND_MODULES.values() for c in cs]
    assert len(commands) == len(set(commands))
    sub = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert sorted(sub.choices) == sorted(commands)


@pytest.mark.parametrize(
    ("argv", "modules"),
    [
        (["list", "--limit", "3"], ["triage_cmds"]),
        (["--config", "c.toml", "--data-dir", "d", "tag", "x:1", "bug"], ["triage_cmds"]),
        (["--theme", "incident"], []),  # the inbox: no command module at all
        ([], []),
        (["--no-mouse", "outbox", "list"], ["outbox_cmds"]),
        (["--config", "list"], []),  # "list" is the config file's name here
    ],
)
def test_a_call_needs_its_own_module(argv: list[str], modules: list[str]) -> None:
    assert cli.modules_for(argv) == modules


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["lsit"], ["--config"], ["--data-dir"]])
def test_help_typos_and_bad_globals_get_every_command(argv: list[str]) -> None:
    assert cli.modules_for(argv) == list(cli.COMMAND_MODULES)


def test_a_typo_still_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.build_parser(["lsit"]).parse_args(["lsit"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'lsit'" in err and "'list'" in err and "'who'" in err


def test_a_command_runs_without_the_other_commands_modules() -> None:
    code = (
        "import json, sys; from cminbox import cli; cli.build_parser(['who', '--json'])"
        "; print(json.dumps(sorted(m for m in sys.modules if m.startswith('cminbox.commands.'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out)
    assert "cminbox.commands.team_cmds" in loaded
    assert "cminbox.commands.demo_cmds" not in loaded and "cminbox.commands.channel_cmds" not in loaded
