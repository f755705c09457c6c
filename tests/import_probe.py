"""Run by tests/test_import_budget.py in a fresh interpreter: what `cminbox --version`, or the
real `cminbox` up to its inbox's first rows, imported. Prints the module names as JSON.

    python -m tests.import_probe version
    python -m tests.import_probe tui CONFIG DATA_DIR
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any


def _tui(config: str, data_dir: str) -> None:
    from cminbox import cli
    from cminbox.tui import launch

    def headless(app: Any, args: Any, mouse_default: bool) -> int:
        async def first_rows() -> None:
            async with app.run_test(size=(120, 40)) as pilot:
                for _ in range(500):  # the inbox's first rows, read on a worker
                    if getattr(app.screen, "rows_loaded", False):
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
    else:
        _tui(sys.argv[2], sys.argv[3])
    print(json.dumps(sorted(sys.modules)), file=sys.stderr)


if __name__ == "__main__":
    main()
