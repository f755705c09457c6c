"""Run by tests/test_import_budget.py in a fresh interpreter: what `cminbox --version`, the
real `cminbox` up to its inbox's first rows (drawn), or `cminbox list --limit 20` imported.
Prints the module names as JSON.

    python -m tests.import_probe version
    python -m tests.import_probe tui CONFIG DATA_DIR
    python -m tests.import_probe list CONFIG DATA_DIR   # `cminbox list --limit 20`
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

SEEN: list[str] = []  # sys.modules when the first rows were drawn (the TUI probe)


def imported() -> list[str]:
    """The modules imported: not the None entries that stop an import (cminbox/__init__.py
    keeps httpx from importing its command-line client with one)."""
    return sorted(name for name, module in sys.modules.items() if module is not None)


def _tui(config: str, data_dir: str) -> None:
    from cminbox import cli
    from cminbox.tui import launch
    from cminbox.tui.app import CminboxApp

    first_rows = CminboxApp.on_first_rows

    def seen(app: CminboxApp, message: Any) -> None:
        # What the first frame needed: taken before the engine is built (its imports follow).
        SEEN[:] = imported()
        first_rows(app, message)

    CminboxApp.on_first_rows = seen  # type: ignore[method-assign]

    def headless(app: Any, args: Any, mouse_default: bool) -> int:
        async def first_rows() -> None:
            async with app.run_test(size=(120, 40)) as pilot:
                for _ in range(500):  # the inbox's first rows, read on a worker, then drawn
                    if SEEN:
                        break
                    await pilot.pause(0.01)
                else:
                    raise SystemExit("the inbox never showed its rows")

        asyncio.run(first_rows())
        return 0

    launch.run = headless  # the app as `cminbox` builds it, drawn headless instead of on a tty
    code = cli.main(["--config", config, "--data-dir", data_dir])
    if code:
        raise SystemExit(code)


def main() -> None:
    if sys.argv[1] == "version":
        from cminbox import cli

        cli.main(["--version"])
        print(json.dumps(imported()), file=sys.stderr)
    elif sys.argv[1] == "list":
        from cminbox import cli

        code = cli.main(["--config", sys.argv[2], "--data-dir", sys.argv[3], "list", "--limit", "20"])
        if code:
            raise SystemExit(code)
        print(json.dumps(imported()), file=sys.stderr)
    else:
        _tui(sys.argv[2], sys.argv[3])
        print(json.dumps(SEEN), file=sys.stderr)


if __name__ == "__main__":
    main()
