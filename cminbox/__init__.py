"""cminbox: a keyboard-first terminal inbox for community managers."""

import sys

__version__ = "0.1.0"

# httpx imports its command-line client (click, pygments, rich.syntax, rich.progress) whenever
# click is installed, and import-linter brings click into a test venv: ~20 ms of imports and
# 3.4 MB of RSS in the TUI's engine build (issue #14) for a client cminbox never runs. A None
# entry makes that one import fail, and httpx falls back to its own stub `main` (as without
# click). Only before httpx is imported: after, the entry is there or it is moot.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
