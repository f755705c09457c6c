"""Short texts the screens share: item counts, key labels, what an action is called, a community
answer's line.

Apart from the dialogs and screens that show them too (the help, the helpers' ranking, the bulk
confirmation): the inbox's first frame needs these texts and none of those screens, whose
modules are imported when they are first opened (issue #14: each Textual screen class costs its
creation at import).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from cminbox.core.community import COMMUNITY as COMMUNITY_ANSWER
from cminbox.core.keymap import ActionSpec
from cminbox.core.models import Answered
from cminbox.core.text import sanitize
from cminbox.core.views import View
from cminbox.core.when import age
from cminbox.tui.actions import ACTIONS
from cminbox.tui.inbox_list import COMMUNITY as MARK


def items(n: int) -> str:
    return f"{n} item{'s' if n != 1 else ''}"


def key_label(keys: str) -> str:
    names = {"question_mark": "?", "colon": ":", "slash": "/", "escape": "esc", "enter": "enter"}
    return " ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


def bound_key(app: object, action_id: str) -> str:
    """An action's first key as bound now (the app's [keys] remap, else the action table), for
    the hints notices and dialogs give ("U undoes" once undo is remapped to U)."""
    keymap: dict[str, str] = getattr(app, "keymap_overrides", {})
    keys = keymap.get(action_id) or next((spec.keys for spec in ACTIONS if spec.id == action_id), "")
    return key_label(keys.split(",")[0]) if keys else action_id


def view_names(views: Sequence[View]) -> dict[str, str]:
    """The views in force by their action id: "Saved view 6" said nothing of which view that
    is (new-user trial of 2026-12-01)."""
    return {f"view_{v.key}": v.name for v in views}


def is_view_key(spec: ActionSpec) -> bool:
    return spec.id.startswith("view_") and spec.id[5:].isdigit()


def action_words(spec: ActionSpec, names: dict[str, str]) -> str:
    """What the help and the palette call an action: a view key by its view's name, or as
    unused; every other action (and every one when no views were given) by the table's words."""
    if not names or not is_view_key(spec):
        return spec.description
    name = names.get(spec.id)
    return f"View: {name}" if name else f"{spec.description} (none; add one in [[views]])"


def answer_text(answered: Answered, now: datetime, keys: tuple[str, str] = ("c", "C")) -> Text:
    """``↪ answered by Mira Okafor (@mira) 12m ago · c confirm · C correct`` and the link;
    ``keys``: confirm's and correct's as bound now (a remap included)."""
    out = Text()
    name = sanitize(answered.name, single_line=True)
    handle = sanitize(answered.handle, single_line=True)
    who = f"{name} ({handle})" if name else handle
    when = f"{age(answered.at, now)} ago"
    if answered.kind == COMMUNITY_ANSWER:
        out.append(f"{MARK} answered by ", style="bold")
        out.append(who, style="bold")
        out.append(f" {when}")
        if answered.confirmed_at is not None:
            out.append(f" · ✓ confirmed by {sanitize(answered.confirmed_by, single_line=True)}", style="dim")
        else:
            out.append(f" · {keys[0]} confirm · {keys[1]} correct", style="dim")
    else:
        out.append(f"answered first by staff: {who} {when}", style="dim")
    out.append("\n")
    if answered.url:
        out.append(f"  {sanitize(answered.url, single_line=True)}\n", style="dim underline")
    return out
