"""Macros (``[[macros]]`` in the config): a team's playbooks. A name, an optional key, and steps
applied in order to the item or the whole selection as one action, undone with one ``u``.

During an incident, "tag #outage, reply with the status-page answer, done" is one key over the
whole filtered burst. This module holds what a macro *is*: its config compiled into steps,
each with its words ("tag outage", "reply “outage-ack”", "done") for the picker, ``macros
list`` and the history line, and the checks ``cminbox config check`` runs on it (file, line
and key in every error). Running one is :mod:`cminbox.core.macro_run`.

A step is one inline table of one key: ``steps = [{tag = ["outage"]}, {reply = "outage-ack"},
{done = true}]``. The triage steps of all the items become one action group (one undo); the
reply and the escalation go through the outbox, once per item.
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec

from cminbox.core import keymap
from cminbox.core.config_schema import MacroConfig, MacroEscalation, MacroStep
from cminbox.core.config_where import Fail, KeyPath
from cminbox.core.models import Priority, Status
from cminbox.core.triage import normalise_tag

if TYPE_CHECKING:
    from cminbox.core.config import Config

LABEL_PREFIX = "macro "  # the history line: "macro outage: tag outage; reply …; done"
STEP_KINDS = tuple(MacroStep.__struct_fields__)


class Step(msgspec.Struct, frozen=True):
    """One step: its kind (a key of MacroStep) and its value, checked and normalised."""

    kind: str
    tags: tuple[str, ...] = ()
    status: Status | None = None  # status, done (and escalate: ESCALATED)
    priority: Priority | None = None
    text: str = ""  # assign (a teammate; "" nobody), snooze, reply (the saved reply's name), note
    escalation: MacroEscalation | None = None

    @property
    def words(self) -> str:
        match self.kind:
            case "tag" | "untag":
                return f"{self.kind} " + " ".join(self.tags)
            case "status":
                return f"status {self.status}"
            case "done":
                return "done"
            case "priority":
                return f"priority {self.priority}"
            case "assign":
                return f"assign {self.text or 'nobody'}"
            case "snooze":
                return f"snooze {self.text}"
            case "reply":
                return f"reply “{self.text}”"
            case "escalate":
                assert self.escalation is not None
                return f"escalate → {self.escalation.target}"
            case _:
                return "note"


class Macro(msgspec.Struct, frozen=True):
    index: int  # its place in the file (the picker's order)
    name: str
    key: str  # as Textual names it ("O"), "" when it has none
    description: str
    steps: tuple[Step, ...]

    @property
    def words(self) -> str:
        """``tag outage, reply “outage-ack”, done``: the picker's and ``macros list``'s."""
        return ", ".join(s.words for s in self.steps)

    @property
    def label(self) -> str:
        """The history line and the undo message: ``macro outage: tag outage; reply …; done``."""
        return f"{LABEL_PREFIX}{self.name}: " + "; ".join(s.words for s in self.steps)

    @property
    def reply(self) -> str | None:
        """The saved reply it answers with (a macro replies at most once: config check)."""
        return next((s.text for s in self.steps if s.kind == "reply"), None)

    @property
    def escalation(self) -> MacroEscalation | None:
        return next((s.escalation for s in self.steps if s.kind == "escalate"), None)

    @property
    def final_status(self) -> Status | None:
        """The status the item ends with (the last step that sets one), None when none does."""
        found = None
        for s in self.steps:
            if s.kind == "escalate":
                found = Status.ESCALATED
            elif s.status is not None:
                found = s.status
        return found

    @property
    def triages(self) -> bool:
        """Has a step besides the reply (something for the store's action group, hence undo)."""
        return any(s.kind != "reply" for s in self.steps)


def step_of(raw: MacroStep, members: dict[str, str]) -> Step:
    """A step from its (checked) config."""
    kind = next(k for k in STEP_KINDS if getattr(raw, k) is not None)
    match kind:
        case "tag" | "untag":
            tags = getattr(raw, kind) or []
            return Step(kind, tags=tuple(dict.fromkeys(t for t in map(normalise_tag, tags) if t)))
        case "status":
            return Step(kind, status=Status(str(raw.status)))
        case "done":
            return Step(kind, status=Status.DONE)
        case "priority":
            return Step(kind, priority=Priority(str(raw.priority)))
        case "assign":
            who = (raw.assign or "").strip()
            return Step(kind, text=members.get(who.casefold(), who))
        case "escalate":
            return Step(kind, escalation=raw.escalate, status=Status.ESCALATED)
        case _:  # snooze, reply, note
            return Step(kind, text=str(getattr(raw, kind)).strip())


def compile_macros(config: Config) -> list[Macro]:
    members = {m.casefold(): m for m in config.team.members}
    return [
        Macro(
            index=i,
            name=m.name,
            key=",".join(keymap.split_keys(m.key)),
            description=m.description.strip(),
            steps=tuple(step_of(s, members) for s in m.steps),
        )
        for i, m in enumerate(config.macros)
    ]


def named(config: Config, name: str) -> Macro:
    """The macro of this name; else an error naming the configured ones."""
    from cminbox.core.errors import CminboxError

    found = compile_macros(config)
    for macro in found:
        if macro.name == name:
            return macro
    close = difflib.get_close_matches(name, [m.name for m in found], n=1)
    listed = ", ".join(m.name for m in found) or "none configured: add [[macros]] to the config"
    raise CminboxError(
        f"no macro named {name!r}.", (f"Did you mean {close[0]!r}? " if close else "") + f"Macros: {listed}."
    )


# ------------------------------------------------------------------ config check
def check_config(cfg: Config, fail: Fail) -> None:
    """``[[macros]]``: distinct names; a key that is one key, free of the action table (with the
    ``[keys]`` remaps in force) and of the other macros; each step one known key, naming a saved
    reply, a target and a teammate that exist; one reply and one escalation at most."""
    taken = {key: spec_id for spec_id, keys in _actions_in_force(cfg).items() for key in keys}
    names: set[str] = set()
    macro_keys: dict[str, str] = {}
    for i, m in enumerate(cfg.macros):
        base: KeyPath = ("macros", i)
        if m.name in names:
            raise fail((*base, "name"), f"two macros are named {m.name!r}.", "Names must be unique.")
        names.add(m.name)
        if m.key.strip():
            _check_key(m, base, fail, taken, macro_keys)
        for n, step in enumerate(m.steps):
            _check_step(cfg, step, (*base, "steps", n), fail)
        for kind in ("reply", "escalate"):
            if sum(getattr(s, kind) is not None for s in m.steps) > 1:
                raise fail((*base, "steps"), f"macro {m.name!r} has two `{kind}` steps.", f"A macro may {kind} once.")


def _actions_in_force(cfg: Config) -> dict[str, list[str]]:
    return {spec.id: keymap.split_keys(cfg.keys.get(spec.id, spec.keys)) for spec in keymap.ACTIONS}


def _check_key(m: MacroConfig, base: KeyPath, fail: Fail, taken: dict[str, str], macro_keys: dict[str, str]) -> None:
    keys = keymap.split_keys(m.key)
    where = (*base, "key")
    if len(keys) != 1:
        raise fail(where, f"`key` must be one key, not {m.key!r}.", 'Write one key, e.g. key = "O".')
    [key] = keys
    if key in keymap.RESERVED:
        raise fail(where, f"key `{key}` is reserved: it {keymap.RESERVED[key]}.", "Choose another key.")
    if key in taken:
        raise fail(
            where,
            f"key `{key}` is already the `{taken[key]}` action's.",
            "Choose a free key (`?` in the app lists the keys in use), or remap the action in [keys].",
        )
    if key in macro_keys:
        raise fail(where, f"key `{key}` is already macro {macro_keys[key]!r}'s.", "Give each macro its own key.")
    macro_keys[key] = m.name


def _check_step(cfg: Config, step: MacroStep, where: KeyPath, fail: Fail) -> None:
    from cminbox.core.people import clean_tags
    from cminbox.core.when import WhenError, parse_when

    given = [k for k in STEP_KINDS if getattr(step, k) is not None]
    if len(given) != 1:
        what = "no key" if not given else "`" + "`, `".join(given) + "`"
        raise fail(
            where,
            f"a step has {what}; each step is one inline table of one key.",
            'Write e.g. steps = [{tag = ["outage"]}, {reply = "ack"}, {done = true}]. '
            f"Step keys: {', '.join(STEP_KINDS)}.",
        )
    [kind] = given
    at = (*where, kind)
    if kind in ("tag", "untag"):
        tags = getattr(step, kind) or []
        if not tags:
            raise fail(at, f"`{kind}` names no tag.", f'Write e.g. {{{kind} = ["outage"]}}.')
        try:
            clean_tags(tags)
        except ValueError as exc:
            raise fail(at, f"{exc}.") from None
    elif kind == "done" and step.done is not True:
        raise fail(at, "`done = false` does nothing.", "Write {done = true}, or drop the step.")
    elif kind == "note" and not (step.note or "").strip():
        raise fail(at, "the note is empty.", 'Write e.g. {note = "part of the 14:00 outage"}.')
    elif kind == "assign":
        who = (step.assign or "").strip()
        members = cfg.team.members
        if who and members and who.casefold() not in {x.casefold() for x in members}:
            close = difflib.get_close_matches(who, members, n=1)
            did = f"Did you mean {close[0]!r}? " if close else ""
            raise fail(at, f"{who!r} is not a teammate.", f"{did}[team] members: {', '.join(members)}.")
    elif kind == "snooze":
        try:
            parse_when(step.snooze or "", datetime.now(UTC))
        except (WhenError, ValueError, OverflowError) as exc:
            raise fail(at, f"{step.snooze!r} is not a time ({exc}).", "Write e.g. 1h, 2d, tomorrow 9:00.") from None
    elif kind == "reply":
        replies = sorted(r.name for r in cfg.saved_replies)
        if step.reply not in replies:
            close = difflib.get_close_matches(step.reply or "", replies, n=1)
            did = f"Did you mean {close[0]!r}? " if close else ""
            known = ", ".join(replies) or "none configured: add [[saved_replies]]"
            raise fail(at, f"no saved reply named {step.reply!r}.", f"{did}Saved replies: {known}.")
    elif kind == "escalate":
        assert step.escalate is not None
        targets = sorted(t.name for t in cfg.targets)
        if step.escalate.target not in targets:
            known = ", ".join(targets) or "none configured: add [[escalation.targets]]"
            raise fail((*at, "target"), f"no escalation target named {step.escalate.target!r}.", f"Targets: {known}.")
