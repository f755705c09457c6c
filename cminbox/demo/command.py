"""How a second shell runs this cminbox: what the demos print for the reader to copy.

``make demo`` runs ``.venv/bin/cminbox``, which is not on the reader's PATH: the notice said
``cminbox list --status new``, and a new user's second shell answered "command not found"
(trial of 2026-12-02). So the plain name only when PATH finds this very cminbox.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path


def cminbox_argv() -> list[str]:
    """How this cminbox was started, for a command another shell can run: the script itself
    (``.venv/bin/cminbox``, absolute), else ``python -m cminbox`` with this interpreter."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name == "cminbox" and script.is_file():
        return [str(script.resolve())]
    return [sys.executable, "-m", "cminbox"]


def cminbox_command() -> str:
    """``cminbox`` when the PATH finds this one, else its absolute path (quoted for a shell)."""
    argv = cminbox_argv()
    found = shutil.which("cminbox")
    if found is not None and len(argv) == 1 and Path(found).resolve() == Path(argv[0]):
        return "cminbox"
    return shlex.join(argv)
