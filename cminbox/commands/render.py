"""Plain-text and JSON output for the headless commands.

Text is printed with ``print``, never through Rich, so ``[bold]`` stays literal; it is
also sanitized again on the way out, in case anything unsanitized reached the store.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from datetime import datetime
from typing import Any

import msgspec

from cminbox.core.models import Message, TriageState
from cminbox.core.text import cell_width, fit_cells, one_line, sanitize
from cminbox.core.when import age as age  # the one age(): the commands import it from here


def message_json(msg: Message, state: TriageState) -> dict[str, Any]:
    return {
        "id": msg.id,
        "channel": msg.channel,
        "channel_type": msg.channel_type,
        "kind": str(msg.kind),
        "author": msgspec.to_builtins(msg.author),
        "text": msg.text,
        "url": msg.url,
        "created_at": msg.created_at.isoformat(),
        "thread_id": msg.thread_id,
        "parent_id": msg.parent_id,
        "visibility": msg.visibility,
        "status": str(state.status),
        "tags": list(state.tags),
        "assignee": state.assignee,
        "priority": str(state.priority),
        "snoozed_until": state.snoozed_until.isoformat() if state.snoozed_until else None,
        "first_response_at": state.first_response_at.isoformat() if state.first_response_at else None,
    }


# JSON escapes C0 controls but writes DEL, C1 controls (0x9b is CSI to many terminals) and the
# Unicode line separators as they are; those are escaped too, so `--json` on a terminal is inert.
_RAW_IN_JSON = re.compile("[\x7f-\x9f\u2028\u2029]")


def dumps(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, indent=2, default=str)
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def short_handle(handle: str, width: int) -> str:
    """``@lena@demo.lumen.community`` → ``@lena@…`` when it does not fit (the user part matters most)."""
    handle = one_line(handle)
    if len(handle) <= width:
        return handle
    user = "@" + handle.lstrip("@").split("@")[0]
    return one_line(user + "@…", width) if len(user) + 2 <= width else one_line(user, width)


def terminal_width(default: int = 160) -> int:
    """The terminal's width when printing to one; a generous default for pipes and files."""
    if sys.stdout.isatty():
        return shutil.get_terminal_size((default, 24)).columns
    return default


def row(msg: Message, state: TriageState, now: datetime, width: int | None = None) -> str:
    """One message as a line that fits ``width`` columns (the terminal's, by default)."""
    width = width or terminal_width()
    marker = {"new": "●", "open": "○", "waiting": "…", "escalated": "!", "done": "✓"}[str(state.status)]
    head = (
        f"{marker} {clean_line(msg.id):<24} {age(msg.created_at, now):>4} {state.status!s:<9} {state.priority!s:<6} "
        f"{fit_cells(short_handle(clean_line(msg.author.handle), 18), 18)} "
    )
    tail = ("[" + ",".join(state.tags) + "]" if state.tags else "") + (f" →{state.assignee}" if state.assignee else "")
    # Tags and assignee are already plain words; this keeps them one line. It also folds the
    # outer spaces, so the one before them is added after (the tags were glued to the text:
    # "what's going on #LumenDown[outage]", new-user trial of 2026-12-01).
    tail = one_line(tail)
    tail = " " + tail if tail else ""
    room = max(20, width - cell_width(head) - cell_width(tail) - 1)
    # Cut by terminal cells, not characters: a CJK or emoji row would otherwise overflow the line.
    return head + fit_cells(msg.text, room).rstrip() + tail


def clean(text: str) -> str:
    return sanitize(text)


def clean_line(text: str) -> str:
    """One inert line: an id, a link, a handle as a store may hold it."""
    return sanitize(text, single_line=True)
