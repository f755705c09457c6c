"""Writing a reply in $VISUAL / $EDITOR: the app suspends, the editor owns the terminal."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from textual.app import App

from cminbox.core.models import Message

MARK = "# ---- everything below this line is ignored ----"


def edit_in_editor(app: App[object], draft: str, message: Message) -> str | None:
    """Returns the edited text, or None if the editor failed (the draft is then unchanged)."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    quoted = "\n".join(f"# > {line}" for line in message.text.splitlines())
    with tempfile.NamedTemporaryFile("w", suffix=".md", prefix="cminbox-reply-", delete=False) as fh:
        fh.write(f"{draft}\n\n{MARK}\n# Replying to {message.author.handle} on {message.channel}:\n{quoted}\n")
        path = Path(fh.name)
    try:
        with app.suspend():
            code = subprocess.run([*shlex.split(editor), str(path)], check=False).returncode
        if code != 0:
            app.notify(f"The editor ({editor}) exited with status {code}; the draft is unchanged.", severity="warning")
            return None
        return path.read_text(encoding="utf-8").split(MARK, 1)[0].strip()
    except Exception as exc:  # SuspendNotSupported (e.g. in tests), a missing editor, ...
        app.notify(f"Cannot run the editor ({editor}): {exc}", severity="error")
        return None
    finally:
        path.unlink(missing_ok=True)
