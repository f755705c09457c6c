"""The core never imports Textual (checked in a clean interpreter and by import-linter)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_core_and_channels_do_not_import_textual() -> None:
    code = (
        "import sys, pkgutil, importlib, cminbox.core, cminbox.channels\n"
        "for pkg in (cminbox.core, cminbox.channels):\n"
        "    for m in pkgutil.iter_modules(pkg.__path__):\n"
        "        importlib.import_module(pkg.__name__ + '.' + m.name)\n"
        # rich arrives through httpx's own CLI module; import-linter checks that *we* never import it.
        "bad = [m for m in sys.modules if m.split('.')[0] == 'textual' or m.startswith('cminbox.tui')]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_headless_commands_do_not_import_textual() -> None:
    code = "import sys; from cminbox import cli; cli.build_parser(); print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_import_linter_contracts_hold() -> None:
    lint = __import__("shutil").which("lint-imports") or str(ROOT / ".venv" / "bin" / "lint-imports")
    out = subprocess.run([lint], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
