"""What the demos print for a second shell to run: `cminbox` only when the PATH finds this very
cminbox; else its absolute path (`make demo` runs .venv/bin/cminbox, not on a new user's PATH:
the notice's `cminbox list` answered "command not found", trial of 2026-12-02)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from cminbox.demo.command import cminbox_argv, cminbox_command


def script(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cminbox"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_not_on_the_path_the_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = script(tmp_path / "with space" / "bin")
    monkeypatch.setattr(sys, "argv", [str(mine)])
    monkeypatch.setenv("PATH", str(tmp_path / "elsewhere"))
    assert cminbox_command() == shlex.quote(str(mine.resolve()))
    assert shlex.split(cminbox_command()) == [str(mine.resolve())]


def test_on_the_path_the_plain_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = script(tmp_path / "bin")
    monkeypatch.setattr(sys, "argv", [str(mine)])
    monkeypatch.setenv("PATH", f"{tmp_path / 'empty'}:{mine.parent}")
    assert cminbox_command() == "cminbox"


def test_another_cminbox_first_on_the_path_is_not_this_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine, other = script(tmp_path / "venv" / "bin"), script(tmp_path / "old" / "bin")
    monkeypatch.setattr(sys, "argv", [str(mine)])
    monkeypatch.setenv("PATH", f"{other.parent}:{mine.parent}")
    assert cminbox_command() == str(mine.resolve())


def test_run_as_a_module_this_python_with_dash_m(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/somewhere/cminbox/__main__.py"])
    assert cminbox_argv() == [sys.executable, "-m", "cminbox"]
    assert cminbox_command() == shlex.join([sys.executable, "-m", "cminbox"])
