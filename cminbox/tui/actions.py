"""The one action table: key bindings, the footer, the help screen and the command palette
are all generated from it, so they can never disagree. Every entry's ``id`` is the name a
user remaps in the ``[keys]`` section of the config."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class ActionSpec:
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
    ActionSpec("sort", "S", "cycle_sort", "Sort: newest / oldest / priority", "View"),
    ActionSpec("group_threads", "z", "toggle_group", "Group by conversation", "View"),
    ActionSpec("toggle_preview", "v", "toggle_preview", "Preview: right / below / hidden", "View"),
    ActionSpec("poll_now", "R", "poll_now", "Poll every channel now", "App"),
    ActionSpec("theme", "ctrl+t", "pick_theme", "Change theme", "App"),
    ActionSpec("help", "question_mark", "help", "Keys (this screen)", "App", footer=True, label="Keys"),
    ActionSpec("palette", "colon,ctrl+p", "app.command_palette", "Command palette", "App"),
    ActionSpec("quit", "q", "app.quit", "Quit", "App"),
)

BY_ID = {spec.id: spec for spec in ACTIONS}


def bindings() -> list[BindingType]:
    return [
        Binding(
            spec.keys,
            spec.action,
            spec.label or spec.description,
            show=spec.footer,
            id=spec.id,
            tooltip=spec.description,
        )
        for spec in ACTIONS
    ]


def unknown_ids(keymap: dict[str, str]) -> list[str]:
    return [key for key in keymap if key not in BY_ID]
