"""Running the rules on a store: at ingest (the poller), on existing items (``rules apply``), as
a dry run (``rules test``) and again when a person's profile tags change (people_ops.py).

At ingest the rules run inside the store's step that stores the new messages
(``upsert_messages(plan=...)``), so every instance sees a new item with its rules' effects from
the start. The people the rules read (profile tags) are read once per batch, before the step.

"Older than the rule" (an auto-reply never answers those) needs the time a rule came into
effect, shared by every instance and kept across restarts: the store's cursor table holds it,
under ``rule:NAME`` (a channel's name cannot contain ":"), with the rule's fingerprint; a rule
whose query or reply changes starts again from that moment. ``doctor --repair`` rewinding every
cursor makes it start again too, which can only hold back replies, never send more. An export
(``--all``) and ``store migrate`` carry it like the cursors.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cminbox.core import registry
from cminbox.core.clock import Clock
from cminbox.core.collision import staff_handles
from cminbox.core.community import ACTOR as ANSWER_ACTOR
from cminbox.core.community import Answering
from cminbox.core.config import Config
from cminbox.core.effects import OutboxLookup, Planned
from cminbox.core.errors import CminboxError
from cminbox.core.models import Message, Status, TriageState
from cminbox.core.outbox_types import OutboxKind
from cminbox.core.people import Person, is_stored, staff_identities
from cminbox.core.query import Node, PeopleView, Query, Term, any_of
from cminbox.core.query.context import NOBODY
from cminbox.core.rule_lines import ACTOR_PREFIX
from cminbox.core.rules import Rule, compile_rules
from cminbox.core.rules_plan import Context, Outcome, plan
from cminbox.core.store_api import StoreApi
from cminbox.core.text import sanitize

log = logging.getLogger(__name__)
CHUNK = 500  # items per store step when the rules run on existing items
SINCE_KEY = "rule:"


@dataclass
class Ingested:
    new_ids: list[str]
    outcome: Outcome = field(default_factory=Outcome)


class RuleRunner:
    def __init__(self, config: Config, store: StoreApi, clock: Clock, rules: Sequence[Rule] | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.rules = list(rules) if rules is not None else compile_rules(config)
        self.staff = staff_identities(staff_handles(config.channels))
        self._since: dict[str, datetime] = {}  # per replying rule, once read (or set) in the store

    @classmethod
    def of(cls, config: Config, store: StoreApi, clock: Clock) -> RuleRunner | None:
        """None when the config has no rules (ingest then costs nothing more)."""
        return cls(config, store, clock) if config.rules else None

    def named(self, names: Iterable[str]) -> list[Rule]:
        """The rules of these names, in file order; an unknown name is an error naming the rules."""
        wanted = list(names)
        known = {r.name for r in self.rules}
        for name in wanted:
            if name not in known:
                listed = ", ".join(r.name for r in self.rules) or "none configured"
                raise CminboxError(f"no rule named {name!r}.", f"Rules: {listed}.")
        return [r for r in self.rules if r.name in wanted] if wanted else list(self.rules)

    # ----------------------------------------------------------------- context
    def context(self, rules: Sequence[Rule], *, record: bool = True) -> tuple[list[Rule], Context]:
        """The rules bound to the people as stored now, and what planning needs. ``record``:
        note in the store when a replying rule comes into effect (a dry run does not)."""
        now = self.clock()
        replying = [r for r in rules if r.reply_text]
        people = (
            PeopleView.of(self.store.people(), self.staff) if replying or any(r.reads_people for r in rules) else NOBODY
        )
        since = {r.name: self._rule_since(r, now, record=record) for r in replying}
        ctx = Context(now, people, since, self._outgoing, self.config.marks_read, self.config.actor)
        return [r.bound(people) for r in rules], ctx

    def _rule_since(self, rule: Rule, now: datetime, *, record: bool) -> datetime:
        if rule.name in self._since:
            return self._since[rule.name]
        key = SINCE_KEY + rule.name
        stored = self.store.get_cursor(key)
        if stored is not None and stored.get("fingerprint") == rule.fingerprint and stored.get("since"):
            since = datetime.fromisoformat(str(stored["since"]))
        else:
            since = now
            if not record:
                return since
            self.store.set_cursor(key, {"fingerprint": rule.fingerprint, "since": now.isoformat()})
        self._since[rule.name] = since
        return since

    def _outgoing(self, message: Message, text: str) -> str | None:
        if not self.config.has_channel(message.channel):
            return None
        cfg = self.config.channel(message.channel)
        cls = registry.load_channel(cfg.type)
        if not cls.capabilities.reply:
            return None
        clean = sanitize(text).strip()
        out = cls.outgoing_reply(message, clean, cfg.options)
        if out.too_long:
            raise ValueError(out.refusal(cfg.type))
        return clean

    # ----------------------------------------------------------------- running
    def ingest(self, messages: Iterable[Message], answers: Answering | None = None) -> Ingested:
        """Store polled messages, the rules' effects on the new ones in the same step (and
        ``answers``: the community answers of their conversations, core/community.py)."""
        batch = list(messages)
        if not batch:
            return Ingested(self.store.upsert_messages(batch, answers=answers))
        rules, ctx = self.context(self.rules)
        outcome = Outcome()

        def decide(items: list[tuple[Message, TriageState]], known: OutboxLookup) -> Planned:
            nonlocal outcome
            outcome = plan(rules, items, known, ctx)  # a retried step plans again: keep the last
            return outcome.planned

        reading = [r for r in self.rules if r.reads_answers] if answers is not None else []
        since = self.store.last_position() if reading else 0
        new_ids = self.store.upsert_messages(batch, plan=decide, answers=answers)
        self._log(outcome)
        if reading:  # questions stored earlier whose answer this batch brought: their rules now
            fresh = set(new_ids)
            found = {e.message_id for e in self.store.events(since=since) if e.actor == ANSWER_ACTOR}
            again = sorted(found - fresh)
            if again:
                outcome.add(self.apply(again, reading))
        return Ingested(new_ids, outcome)

    def apply(self, ids: Iterable[str], rules: Sequence[Rule] | None = None) -> Outcome:
        """Run ``rules`` (all) on existing items, CHUNK items per store step; returns what was done."""
        bound, ctx = self.context(self.rules if rules is None else rules)
        total = Outcome()
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), CHUNK):
            chunk = Outcome()

            def decide(items: list[tuple[Message, TriageState]], known: OutboxLookup) -> Planned:
                nonlocal chunk
                chunk = plan(bound, items, known, ctx)
                return chunk.planned

            done = self.store.apply_plan(wanted[start : start + CHUNK], decide)
            # Counted from what was written: a change made meanwhile may leave an effect nothing to do.
            chunk.planned = done
            chunk.changed = Counter(e.actor.removeprefix(ACTOR_PREFIX) for e in done.effects)
            chunk.replies = Counter(str(i.payload.get("rule", "")) for i in done.outbox if i.kind == OutboxKind.REPLY)
            total.add(chunk)
        self._log(total)
        return total

    def test(self, items: list[tuple[Message, TriageState]], rules: Sequence[Rule] | None = None) -> Outcome:
        """What :meth:`apply` would do to these items now; writes nothing."""
        bound, ctx = self.context(self.rules if rules is None else rules, record=False)
        stored = {item.id for item in self.store.outbox.items()}
        return plan(bound, items, lambda ids: {i for i in ids if i in stored}, ctx)

    def rerun_for(self, people: Iterable[Person]) -> Outcome:
        """The rules that read people, again on these people's open (not done) items: their
        profile tags changed (people_ops.py)."""
        rules = [r for r in self.rules if r.reads_people]
        terms: list[Node] = [Term("person", ":", p.id if is_stored(p) else p.identities[0]) for p in people]
        if not rules or not terms:
            return Outcome()
        where = Query.of(any_of(terms))
        ids = [m.id for m, s in self.store.query(where=where, staff=self.staff) if s.status != Status.DONE]
        return self.apply(ids, rules) if ids else Outcome()

    def _log(self, outcome: Outcome) -> None:
        for w in outcome.warnings:
            log.warning("rule %s skipped on %s: %s", w.rule, w.message_id, w.problem)


def warning_text(outcome: Outcome) -> str:
    """The channel health's words for the rules that failed in a batch ("" when none did)."""
    by_rule: dict[str, list[str]] = {}
    for w in outcome.warnings:
        by_rule.setdefault(w.rule, []).append(w.problem)
    return "; ".join(
        f"rule {name} failed on {len(problems)} item(s) and was skipped for them ({problems[0]})"
        for name, problems in by_rule.items()
    )
