"""The action table as plain data, and the checks on the ``[keys]`` section that remaps it.

The TUI builds its key bindings, footer, help screen and command palette from ``ACTIONS``
(through ``cminbox.tui.actions``); the config loader checks ``[keys]`` against the same
table. It lives in core, free of Textual, so ``cminbox config check`` refuses an unknown id or
a key taken twice before the TUI ever starts.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections import defaultdict

import msgspec


class ActionSpec(msgspec.Struct, frozen=True):
    id: str
    keys: str
    action: str
    description: str
    group: str
    footer: bool = False
    label: str = ""  # the footer's short name; the description is for help and the palette


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("cursor_down", "j,down", "cursor_down", "Next item", "Move"),
    ActionSpec("cursor_up", "k,up", "cursor_up", "Previous item", "Move"),
    ActionSpec("cursor_top", "g,home", "cursor_top", "First item", "Move"),
    ActionSpec("cursor_bottom", "G,end", "cursor_bottom", "Last item", "Move"),
    ActionSpec("half_page_down", "ctrl+d,pagedown", "half_page(1)", "Half a page down", "Move"),
    ActionSpec("half_page_up", "ctrl+u,pageup", "half_page(-1)", "Half a page up", "Move"),
    ActionSpec("open_thread", "enter", "open_thread", "Open the thread", "Move"),
    ActionSpec("next_match", "n", "next_match(1)", "Next match of the filter", "Move"),
    ActionSpec("prev_match", "N", "next_match(-1)", "Previous match of the filter", "Move"),
    ActionSpec("reply", "r", "reply", "Reply", "Triage", footer=True),
    ActionSpec("tag", "t", "tag", "Tag", "Triage", footer=True),
    ActionSpec("untag", "T", "untag", "Remove a tag", "Triage"),
    ActionSpec("escalate", "e", "escalate", "Escalate", "Triage", footer=True),
    ActionSpec("assign", "a", "assign", "Assign", "Triage"),
    ActionSpec("moderate", "M", "moderate", "Moderate on the channel (lock, hide, remove ...)", "Triage"),
    ActionSpec("priority", "p", "cycle_priority", "Cycle priority", "Triage"),
    ActionSpec("snooze", "s", "snooze", "Snooze", "Triage"),
    ActionSpec("done", "d", "set_status('done')", "Done", "Triage", footer=True),
    ActionSpec("reopen", "o", "set_status('open')", "Reopen", "Triage"),
    ActionSpec("waiting", "w", "set_status('waiting')", "Waiting (on them)", "Triage"),
    ActionSpec("undo", "u", "undo", "Undo (repeatable)", "Triage", footer=True, label="Undo"),
    ActionSpec("select", "x", "toggle_select", "Select / unselect", "Select", footer=True, label="Select"),
    ActionSpec("select_all", "V", "select_all", "Select all in view", "Select"),
    ActionSpec("clear_selection", "escape", "clear_selection", "Clear the selection or filter", "Select"),
    ActionSpec("person", "P", "open_person", "The author: items on every channel, tags, notes, links", "People"),
    ActionSpec("tag_authors", "A", "tag_authors", "Profile tag for the authors (vip, troll ...)", "People"),
    ActionSpec(
        "filter",
        "slash",
        "filter",
        "Filter (tag:x status:new from:@a age:<1h ...)",
        "View",
        footer=True,
        label="Filter",
    ),
    *(ActionSpec(f"view_{n}", str(n), f"view('{n}')", f"Saved view {n}", "View") for n in range(1, 10)),
    ActionSpec("sort", "S", "cycle_sort", "Sort: newest / oldest / priority / sentiment", "View"),
    ActionSpec("group_threads", "z", "toggle_group", "Group by conversation", "View"),
    ActionSpec("toggle_preview", "v", "toggle_preview", "Preview: right / below / hidden", "View"),
    ActionSpec("poll_now", "R", "poll_now", "Poll every channel now", "App"),
    ActionSpec("theme", "ctrl+t", "pick_theme", "Change theme", "App"),
    ActionSpec("help", "question_mark", "help", "Keys (this screen)", "App", footer=True, label="Keys"),
    ActionSpec("palette", "colon,ctrl+p", "app.command_palette", "Command palette", "App"),
    ActionSpec("quit", "q", "app.quit", "Quit", "App"),
    ActionSpec("macro", "m", "macro", "Run a macro (playbook) on the item or the selection", "Macros"),
    ActionSpec("follow_up", "F", "follow_up", "Tell the author which guideline applied", "Triage"),
    # Community answers (core/community.py, tui/community_keys.py).
    ActionSpec(
        "confirm_answer", "c", "confirm_answer", "Confirm the community's answer (done, helper credited)", "Community"
    ),
    ActionSpec(
        "correct_answer", "C", "correct_answer", "Correct the community's answer (reply quoting it)", "Community"
    ),
    ActionSpec("helpers", "H", "helpers", "Who helps most", "Community"),
)

BY_ID = {spec.id: spec for spec in ACTIONS}

# Keys Textual itself binds with priority, before any screen sees them: a remap onto one of
# them would never run.
RESERVED = {"ctrl+q": "quits cminbox from every screen"}

# Textual names a punctuation key after its Unicode name, with these shortenings; "/" and
# "slash" are the same key, so both spellings must meet when looking for a key taken twice.
_SHORT_NAMES = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}


def key_name(key: str) -> str:
    """One key as Textual names it: "/" is "slash", "?" is "question_mark"; "ctrl+d" stays."""
    key = key.strip()
    if len(key) != 1 or key.isalnum():
        return key
    try:
        name = unicodedata.name(key).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return "tab" if key == "\t" else key
    return _SHORT_NAMES.get(name, name)


def split_keys(keys: str) -> list[str]:
    """The keys of a comma-separated binding, named as Textual names them, each once."""
    return list(dict.fromkeys(key_name(k) for k in keys.split(",") if k.strip()))


def normalized(keymap: dict[str, str]) -> dict[str, str]:
    """The keymap as Textual needs it: no spaces around commas, punctuation by name."""
    return {action_id: ",".join(split_keys(keys)) for action_id, keys in keymap.items()}


def problems(keymap: dict[str, str]) -> list[tuple[str, str, str]]:
    """(action id, problem, hint) for each unknown id, empty binding and key taken twice."""
    found: list[tuple[str, str, str]] = []
    for action_id, keys in keymap.items():
        if action_id not in BY_ID:
            close = difflib.get_close_matches(action_id, list(BY_ID), n=1)
            found.append(
                (
                    action_id,
                    f"unknown action id `{action_id}`.",
                    (f"Did you mean `{close[0]}`? " if close else "")
                    + "`?` in the app and the README's key table list every action id.",
                )
            )
        elif not split_keys(keys):
            example = f'{action_id} = "{BY_ID[action_id].keys}"'
            found.append((action_id, "no key is given.", f"Write one or more keys, e.g. {example} (its default)."))
    if found:
        return found
    in_force = {spec.id: split_keys(keymap.get(spec.id, spec.keys)) for spec in ACTIONS}
    owners: dict[str, list[str]] = defaultdict(list)
    for action_id, names in in_force.items():
        for key in names:
            owners[key].append(action_id)
    for action_id in keymap:
        for key in in_force[action_id]:
            if key in RESERVED:
                found.append((action_id, f"key `{key}` is reserved: it {RESERVED[key]}.", "Choose another key."))
                break
            others = [o for o in owners[key] if o != action_id]
            if not others:
                continue
            ticked = [f"`{o}`" for o in [action_id, *others]]
            named = ", ".join(ticked[:-1]) + " and " + ticked[-1]
            why = "; ".join(
                f"`{o}` {'is also remapped to it' if o in keymap else f'has it by default ({BY_ID[o].keys})'}"
                for o in others
            )
            found.append(
                (
                    action_id,
                    f"key `{key}` is bound to {named}; only one of them would run.",
                    f"{why}: give `{action_id}` another key, or remap {' and '.join(ticked[1:])} too.",
                )
            )
            break
    return found
