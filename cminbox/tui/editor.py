"""Writing a reply in $VISUAL / $EDITOR: the app suspends, the editor owns the terminal."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from textual.app import App

from cminbox.core.models import Message
from cminbox.core.reply_template import read_back, template


def edit_in_editor(app: App[object], draft: str, message: Message) -> str | None:
    """Returns the edited text, or None if the editor failed (the draft is then unchanged).
    What the user wrote below the template's marker is kept, and they are told so."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w", suffix=".md", prefix="cminbox-reply-", delete=False) as fh:
        fh.write(template(draft, message))
        path = Path(fh.name)
    try:
        with app.suspend():
            code = subprocess.run([*shlex.split(editor), str(path)], check=False).returncode
        if code != 0:
            app.notify(f"The editor ({editor}) exited with status {code}; the draft is unchanged.", severity="warning")
            return None
        edited = read_back(path.read_text(encoding="utf-8"), message)
    except Exception as exc:  # SuspendNotSupported (e.g. in tests), a missing editor, ...
        app.notify(f"Cannot run the editor ({editor}): {exc}", severity="error")
        return None
    finally:
        path.unlink(missing_ok=True)
    if edited.kept_below:
        lines = f"{edited.kept_below} line{'s' if edited.kept_below != 1 else ''}"
        app.notify(f"Kept {lines} you wrote below the marker, at the end of the reply.", timeout=6)
    return edited.text
