"""Rules (``[[rules]]`` in the config): a query and the effects it has on the items it matches.

A rule is compiled once from its config (:func:`compile_rules`): its ``when`` parsed, its tags
normalised, its saved reply's text looked up. What a rule does to one item is a list of steps,
each a triage action with a label (:meth:`Rule.steps`); the planner (rules_plan.py) keeps the
steps that change the item and joins them into one action, one history line
("rule bugs: tag bug; priority → high") and one thing to undo.

Rules run in the core at ingest, inside the store's step (rules_run.py); they never call the
store themselves. Everything a rule decides from the time (a snooze, a note, an escalation) uses
the ``now`` of that step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from cminbox.core.config import Config, RuleConfig
from cminbox.core.models import Escalation, Message, Note, Priority, Status, TriageState
from cminbox.core.query import And, Node, Or, PeopleView, Query, Text
from cminbox.core.query import parse as parse_query
from cminbox.core.query.context import uses_field
from cminbox.core.rule_lines import actor_of
from cminbox.core.triage import (
    Action,
    AddNote,
    AddTags,
    Assign,
    RemoveTags,
    SetEscalation,
    SetPriority,
    SetStatus,
    Several,
    Snooze,
    normalise_tag,
)
from cminbox.core.when import parse_when

MUTED = "muted"  # the tag a rule's `mute` adds (and the profile tag no auto-reply goes to)


def digest(*parts: str) -> str:
    """A short stable id from its parts: the same rule, item or author gives the same id, so what
    a rule stores twice (after a step cut short, or run again) is the same record."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


Sieve = Callable[[str], bool]


def sieve_of(node: Node | None) -> Sieve | None:
    """A cheap test a query's item must pass, from its free-text terms: given the item's text,
    handle and name lower-cased in one string (:func:`haystack`), False means the query cannot
    match; True, that it may. None: the query has no such test. Most rules are phrases, and 50
    rules on 100 items spent most of their time lower-casing the same texts for each rule."""
    if isinstance(node, Text):
        phrase = node.phrase
        return lambda hay: phrase in hay
    if isinstance(node, And):
        found = [s for s in map(sieve_of, node.items) if s is not None]
        return (lambda hay: all(s(hay) for s in found)) if found else None
    if isinstance(node, Or):
        branches = [sieve_of(i) for i in node.items]
        if any(s is None for s in branches):
            return None
        sure = [s for s in branches if s is not None]
        return lambda hay: any(s(hay) for s in sure)
    return None  # a field or a negation: only the query itself can say


def haystack(message: Message) -> str:
    """What free text searches, in one string (the separator is in no phrase: text is sanitised)."""
    return f"{message.text}\0{message.author.handle}\0{message.author.display_name}".lower()


@dataclass(frozen=True)
class Rule:
    index: int  # its place in the file (rules run in this order)
    name: str
    when: Query
    tags: tuple[str, ...] = ()
    untags: tuple[str, ...] = ()
    priority: Priority | None = None
    assign: str = ""
    status: Status | None = None
    snooze: str = ""
    mute: str = ""
    escalate: str = ""
    escalate_note: str = ""
    reply: str = ""  # the saved reply's name (only with auto_reply = true: config check)
    reply_text: str = ""
    stop: bool = False
    sieve: Sieve | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sieve", sieve_of(self.when.node))

    @property
    def actor(self) -> str:
        return actor_of(self.name)

    @property
    def reads_people(self) -> bool:
        """Its query reads the people (author-tag:, person:, from:staff): it runs again on a
        person's open items when their profile tags change."""
        return self.when.uses_people

    @property
    def reads_answers(self) -> bool:
        """Its query reads ``answered:``: it runs again on a question whose answer was found
        after the question was stored (rules_run.RuleRunner.ingest)."""
        return uses_field(self.when.node, "answered")

    @property
    def fingerprint(self) -> str:
        """What an auto-reply rule is: a change of it makes it a new rule (rules_run.py: the items
        older than a rule get no reply from it)."""
        return digest(self.when.canonical, self.reply, self.reply_text)

    def bound(self, people: PeopleView) -> Rule:
        """This rule with its query's people fields answered from ``people``."""
        return replace(self, when=self.when.bind(people)) if self.reads_people else self

    def steps(self, message: Message, state: TriageState, now: datetime) -> list[tuple[Action, str]]:
        """What the rule does to a matching item, step by step, each with its label (the
        planner keeps those that change something). May raise: the planner skips the rule for
        this item and says so."""
        out: list[tuple[Action, str]] = []
        if self.status is not None:
            out.append((SetStatus(self.status), f"status → {self.status}"))
        if self.tags:
            out.append((AddTags(self.tags), "tag " + " ".join(self.tags)))
        if self.untags:
            out.append((RemoveTags(self.untags), "untag " + " ".join(self.untags)))
        if self.priority is not None:
            out.append((SetPriority(self.priority), f"priority → {self.priority}"))
        if self.assign:
            out.append((Assign(self.assign), f"assign → {self.assign}"))
        if self.snooze:
            out.append((Snooze(parse_when(self.snooze, now)), f"snooze {self.snooze}"))
        if self.escalate and state.escalation is None:  # escalated once: never sent again by a rule
            prio = self.priority or max(state.priority, Priority.HIGH, key=lambda p: p.rank)
            esc = Escalation(target=self.escalate, priority=prio, note=self.escalate_note, at=now, by=self.actor)
            out.append((SetEscalation(esc, Status.ESCALATED, prio), f"escalate → {self.escalate}"))
        if self.mute:
            note = Note(
                id="rule-" + digest("mute", self.name, message.id),
                author=self.actor,
                at=now,
                text=f"muted by rule {self.name}: {self.mute}",
            )
            mute = Several((SetStatus(Status.DONE), AddTags((MUTED,)), AddNote(note)))
            out.append((mute, f"mute ({self.mute})"))
        return out


def rule_of(cfg: RuleConfig, index: int, config: Config) -> Rule:
    """A rule from its (checked) config."""
    texts = {r.name: r.text for r in config.saved_replies}
    members = {m.casefold(): m for m in config.team.members}
    return Rule(
        index=index,
        name=cfg.name,
        when=parse_query(cfg.when),
        tags=_tags(cfg.tag),
        untags=_tags(cfg.untag),
        priority=Priority(cfg.priority) if cfg.priority else None,
        assign=members.get(cfg.assign.casefold(), cfg.assign.strip()),
        status=Status(cfg.status) if cfg.status else None,
        snooze=cfg.snooze.strip(),
        mute=cfg.mute.strip(),
        escalate=cfg.escalate,
        escalate_note=cfg.escalate_note.strip(),
        reply=cfg.reply if cfg.auto_reply else "",
        reply_text=texts.get(cfg.reply, "") if cfg.auto_reply else "",
        stop=cfg.stop,
    )


def _tags(tags: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t for t in (normalise_tag(x) for x in tags) if t))


def compile_rules(config: Config) -> list[Rule]:
    return [rule_of(cfg, i, config) for i, cfg in enumerate(config.rules)]
