"""The import budget: what `cminbox --version` and the TUI's first frame may import.

Start-up cost is mostly imports (issue #14: `import textual.app` alone is 0.27-0.43 s here),
and it creeps back one convenient top-level import at a time. This is not a timed test: it
compares the modules a fresh interpreter imported (tests/import_probe.py, the real `cminbox`
code path) with the declared lists in tests/import_budget.toml, both ways, so a module that
joins the start-up path is a decision (import it where it is used instead, or add it to the
budget with the reason in the commit), and one that leaves it is taken off the list.

    .venv/bin/python -m tests.test_import_budget     # rewrite the budget from what is imported now
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

BUDGET = Path(__file__).with_name("import_budget.toml")
# The probe's own imports, and what the interpreter imports at start-up whatever runs (a
# distribution's sitecustomize: Debian's python3 has one, pyenv's not), not cminbox's.
HARNESS = {"__main__", "tests", "_distutils_hack", "sitecustomize", "usercustomize"}


def _probe(tmp: Path, kind: str) -> list[str]:
    if kind == "version":
        argv = ["version"]
    else:
        sys.path.insert(0, str(ROOT))
        from bench.fixtures import build_store

        build_store(tmp / "data", 200)
        config = tmp / "config.toml"
        config.write_text(
            '[[channels]]\nname = "bench"\ntype = "mastodon"\nurl = "http://127.0.0.1:9"\ninterval = 3600\n'
        )
        argv = ["tui" if kind == "tui_first_frame" else "list", str(config), str(tmp / "data")]
    done = subprocess.run(
        [sys.executable, "-m", "tests.import_probe", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(tmp), "PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp / "cfg")},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modules: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return modules


def _split(modules: list[str]) -> dict[str, list[str]]:
    """cminbox's own modules by name; everything else by top-level package, stdlib left out."""
    own = sorted(m for m in modules if m == "cminbox" or m.startswith("cminbox."))
    third = {m.split(".")[0] for m in modules if not m.startswith("cminbox")}
    third -= set(sys.stdlib_module_names) | HARNESS
    return {"cminbox": own, "third_party": sorted(t for t in third if not t.startswith("_") or t == "_cffi_backend")}


@pytest.mark.parametrize("kind", ["version", "tui_first_frame", "cli_list"])
def test_start_up_imports_stay_within_the_budget(tmp_path: Path, kind: str) -> None:
    budget = tomllib.loads(BUDGET.read_text())[kind]
    found = _split(_probe(tmp_path, kind))
    for part in ("cminbox", "third_party"):
        joined = sorted(set(found[part]) - set(budget[part]))
        left = sorted(set(budget[part]) - set(found[part]))
        assert not joined, (
            f"{kind}: {part} imports not in tests/import_budget.toml: {joined}. Import them where they "
            "are used (inside the function, or in the screen that needs them), or add them to the budget "
            "on purpose (`python -m tests.test_import_budget` rewrites it)."
        )
        assert not left, f"{kind}: no longer imported, take them off tests/import_budget.toml: {left}"


def test_httpx_leaves_its_command_line_client_unimported() -> None:
    """httpx imports its CLI (click, pygments, rich.syntax: ~20 ms, 3.4 MB) whenever click is
    installed, as in this test venv (import-linter needs it); the engine's channels import
    httpx after the first frame. cminbox never runs that client."""
    code = (
        "import sys, cminbox, httpx, cminbox.channels.mastodon\n"
        "print(sorted(m for m in ('click', 'pygments', 'rich.syntax', 'rich.progress') if m in sys.modules))\n"
        "print(callable(httpx.main))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:2] == ["[]", "True"]


def _write() -> None:
    import tempfile

    lines = [
        "# What start-up may import (tests/test_import_budget.py). Shrink it; grow it only on purpose.",
        "# Rewritten by `.venv/bin/python -m tests.test_import_budget`.",
    ]
    for kind in ("version", "tui_first_frame", "cli_list"):
        with tempfile.TemporaryDirectory() as tmp:
            found = _split(_probe(Path(tmp), kind))
        lines.append(f"\n[{kind}]")
        for part in ("cminbox", "third_party"):
            lines.append(f"{part} = [")
            lines += [f'    "{name}",' for name in found[part]]
            lines.append("]")
    BUDGET.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    _write()
