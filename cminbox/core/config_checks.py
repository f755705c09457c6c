"""The checks on a config that no declaration can express: each a small named function over
the loaded ``Config``, registered in :data:`CHECKS` by ``@check`` (run in that order, after
every value has passed its declared type, bounds and choices). Each raises through ``fail``,
so its error names the file, the line and the key like any other.

A value's type, range or choice belongs in its declaration (``config_schema``), never here.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cminbox.core import keymap, registry
from cminbox.core.channel import option_problems
from cminbox.core.config_where import Fail, KeyPath
from cminbox.core.query import QueryError
from cminbox.core.query import parse as parse_query
from cminbox.core.urls import is_loopback

if TYPE_CHECKING:
    from cminbox.core.config import Config
    from cminbox.core.config_schema import RuleConfig

Check = Callable[["Config", Fail], None]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    """Register a check (they run in the order of this module)."""
    CHECKS.append(fn)
    return fn


def run(cfg: Config, fail: Fail) -> None:
    for fn in CHECKS:
        fn(cfg, fail)


@check
def keys_are_actions_and_free(cfg: Config, fail: Fail) -> None:
    """``[keys]``: every id is an action of ``keymap.ACTIONS``, no key runs two actions."""
    for action_id, problem, hint in keymap.problems(cfg.keys):
        raise fail(("keys", action_id), problem, hint)


@check
def view_queries_parse(cfg: Config, fail: Fail) -> None:
    for i, view in enumerate(cfg.document.views):
        try:
            parse_query(view.query)
        except QueryError as exc:
            raise fail(("views", i, "query"), f"the query does not parse: {exc}.") from None


@check
def channels_are_unique_and_reachable(cfg: Config, fail: Fail) -> None:
    """Names unique; the type's own checks on its options; ``url`` given when the type needs
    one, with a scheme it speaks (never plain http to a remote host when it carries a secret)."""
    names: set[str] = set()
    for i, ch in enumerate(cfg.channels):
        base: KeyPath = ("channels", i)
        if ch.name in names:
            raise fail((*base, "name"), f"two channels are named {ch.name!r}.", "Channel names must be unique.")
        names.add(ch.name)
        declared = registry.declaration(ch.type)
        for key, problem, hint in option_problems(declared, ch.options):
            raise fail((*base, key), problem, hint)
        traits = declared.traits
        if ch.url:
            check_url(ch.url, (*base, "url"), fail, traits.url_schemes, traits.sends_secrets)
        elif traits.needs_url:
            raise fail(
                base, f"channel {ch.name!r} has no `url`.", 'Add the server\'s base URL, e.g. url = "https://...".'
            )


@check
def targets_are_unique_and_known(cfg: Config, fail: Fail) -> None:
    names: set[str] = set()
    for i, t in enumerate(cfg.targets):
        base: KeyPath = ("escalation", "targets", i)
        if t.name in names:
            raise fail((*base, "name"), f"two escalation targets are named {t.name!r}.", "Names must be unique.")
        names.add(t.name)
        if t.type not in registry.target_types():
            raise fail(
                (*base, "type"),
                f"unknown escalation target type {t.type!r}.",
                f"Known types: {', '.join(registry.target_types())}.",
            )
        check_url(t.url, (*base, "url"), fail)


_PG_ONLY = ("dsn", "password_command", "sslmode", "sslrootcert", "sslcert", "sslkey")


@check
def store_keys_fit_the_backend(cfg: Config, fail: Fail) -> None:
    """The PostgreSQL keys: a DSN when that backend is chosen, and never a password inside it."""
    from cminbox.core.pg.connection import dsn_has_password, dsn_problem  # psycopg only if installed

    store = cfg.store
    if store.backend == "tinydb":
        for key in _PG_ONLY:
            if getattr(store, key):
                raise fail(
                    ("store", key),
                    f'`{key}` is a PostgreSQL key, but backend is "tinydb".',
                    'Set backend = "postgresql" in [store] to use the team database, or remove the key.',
                )
        return
    if not store.dsn:
        raise fail(
            ("store",),
            'backend = "postgresql" needs a `dsn`.',
            'Add e.g. dsn = "postgresql://ana@db.example.com/cminbox" (the password goes elsewhere: see the README).',
        )
    if not store.dsn.startswith(("postgresql://", "postgres://")) and "=" not in store.dsn:
        raise fail(
            ("store", "dsn"),
            f"{store.dsn!r} is not a PostgreSQL connection string.",
            "Write it as postgresql://USER@HOST[:PORT]/DBNAME.",
        )
    if dsn_has_password(store.dsn):
        raise fail(
            ("store", "dsn"),
            "the DSN contains a password, and config files are not a place for secrets.",
            "Remove it from the DSN and run `cminbox login store` (keyring), or set password_command, "
            "or use libpq's ~/.pgpass (PGPASSFILE).",
        )
    if (problem := dsn_problem(store.dsn)) is not None:
        raise fail(
            ("store", "dsn"),
            f"the DSN cannot be parsed ({problem}).",
            "Write it as postgresql://USER@HOST[:PORT]/DBNAME (no spaces; an IPv6 host in [brackets]).",
        )
    for key in ("sslrootcert", "sslcert", "sslkey"):
        value = getattr(store, key)
        if value and value != "system" and not Path(value).expanduser().is_file():
            raise fail(("store", key), f"{value!r} is not a file.", f"`{key}` is the path of a PEM file.")


@check
def members_are_distinct_and_include_me(cfg: Config, fail: Fail) -> None:
    team = cfg.team
    seen: set[str] = set()
    for i, name in enumerate(team.members):
        if name != name.strip() or not name.isprintable():
            raise fail(("team", "members", i), f"member {name!r} has spaces at an end or control characters.")
        if name.casefold() in seen:
            raise fail(("team", "members", i), f"{name!r} is listed twice.", "Each teammate once.")
        seen.add(name.casefold())
    if team.members and team.me.strip() and team.me.strip().casefold() not in seen:
        raise fail(
            ("team", "me"),
            f"you ({team.me!r}) are not in [team] members.",
            f"Add {team.me.strip()!r} to members, or fix the spelling (members: {', '.join(team.members)}).",
        )


@check
def start_view_exists(cfg: Config, fail: Fail) -> None:
    if cfg.ui.view not in {v.key for v in cfg.views}:
        raise fail(
            ("ui", "view"),
            f"no saved view has key {cfg.ui.view!r}.",
            f"Views: {', '.join(f'{v.key} ({v.name})' for v in cfg.views)}.",
        )


def check_url(
    url: str,
    p: KeyPath,
    fail: Fail,
    schemes: tuple[str, ...] = ("https", "http"),
    sends_secrets: bool = True,
) -> None:
    scheme = url.partition("://")[0].lower()
    if scheme not in schemes or not re.match(r"^[a-z]+://[^/\s]+", url):
        example = "https://mastodon.social" if "https" in schemes else f"{schemes[0]}://mail.example.com"
        raise fail(p, f"{url!r} is not a {' or '.join(schemes)} URL.", f"Use the full base URL, e.g. {example}.")
    if url.startswith("http://") and not is_loopback(url) and sends_secrets:
        raise fail(
            p,
            f"{url!r} uses plain http to a remote host.",
            "Tokens would travel unencrypted: use https:// "
            "(plain http is allowed only to this machine: localhost, 127.0.0.1, ::1).",
        )


@check
def saved_replies_are_unique_and_name_known_variables(cfg: Config, fail: Fail) -> None:
    """``[[saved_replies]]``: distinct names; every ``{variable}`` one cminbox fills in."""
    from cminbox.core.saved_replies import TemplateError
    from cminbox.core.saved_replies import check as check_template

    names: set[str] = set()
    for i, reply in enumerate(cfg.saved_replies):
        if reply.name in names:
            raise fail(
                ("saved_replies", i, "name"), f"two saved replies are named {reply.name!r}.", "Names must be unique."
            )
        names.add(reply.name)
        try:
            check_template(reply.text)
        except TemplateError as exc:
            raise fail(("saved_replies", i, "text"), exc.message, exc.hint) from None


@check
def rules_are_unique_and_do_something_known(cfg: Config, fail: Fail) -> None:
    """``[[rules]]``: distinct names; ``when`` a query that parses (its column) and means the same
    on every instance; at least one effect, none contradicting another; the target, saved reply
    and teammate they name exist; ``reply`` only with ``auto_reply = true``."""
    names: set[str] = set()
    replies = {r.name for r in cfg.saved_replies}
    targets = {t.name for t in cfg.targets}
    for i, rule in enumerate(cfg.rules):
        base: KeyPath = ("rules", i)
        if rule.name in names:
            raise fail((*base, "name"), f"two rules are named {rule.name!r}.", "Names must be unique.")
        names.add(rule.name)
        _rule_query(rule.when, (*base, "when"), fail)
        _rule_effects(cfg, rule, base, fail, replies, targets)


def _rule_query(text: str, key: KeyPath, fail: Fail) -> None:
    from cminbox.core.query.context import needs_me

    if not text.strip():
        raise fail(key, "`when` is empty, so the rule would act on every item.", "Write a query, e.g. tag:outage.")
    try:
        query = parse_query(text)
    except QueryError as exc:
        raise fail(key, f"{exc.message}.", "`when` takes the filter language of `/` (README: Filters).") from None
    if needs_me(query.node):
        raise fail(
            key,
            "`assignee:me` and `is:mine` mean whoever runs the rule, and rules run on whichever instance polls.",
            "Name the teammate instead: assignee:ana.",
        )


def _rule_effects(
    cfg: Config, rule: RuleConfig, base: KeyPath, fail: Fail, replies: set[str], targets: set[str]
) -> None:
    from cminbox.core.people import clean_tags
    from cminbox.core.when import WhenError, parse_when

    for key in ("tag", "untag"):
        for n, tag in enumerate(getattr(rule, key)):
            try:
                clean_tags([tag])
            except ValueError as exc:
                raise fail((*base, key, n), f"{exc}.") from None
    if rule.auto_reply and not rule.reply:
        raise fail((*base, "auto_reply"), "`auto_reply` without `reply`.", "Name the saved reply in `reply`.")
    both = set(clean_tags(rule.tag)) & set(clean_tags(rule.untag))
    if both:
        raise fail((*base, "untag"), f"`tag` and `untag` both name {', '.join(sorted(both))}.", "Keep it in one.")
    effects = ("tag", "untag", "priority", "assign", "status", "snooze", "mute", "escalate", "reply")
    if not any(getattr(rule, key) for key in effects):
        raise fail(base, f"rule {rule.name!r} does nothing.", f"Give it one of: {', '.join(effects)}.")
    clashes = (("mute", "status"), ("mute", "escalate"), ("status", "escalate"), ("mute", "snooze"))
    for a, b in clashes:
        if getattr(rule, a) and getattr(rule, b):
            raise fail(
                (*base, b), f"`{a}` and `{b}` both set the item's status.", f"Keep one of them in {rule.name!r}."
            )
    if rule.assign and cfg.team.members and rule.assign.casefold() not in {m.casefold() for m in cfg.team.members}:
        raise fail(
            (*base, "assign"), f"{rule.assign!r} is not a teammate.", f"[team] members: {', '.join(cfg.team.members)}."
        )
    if rule.snooze:
        from datetime import UTC, datetime

        try:
            parse_when(rule.snooze, datetime.now(UTC))
        except (WhenError, ValueError, OverflowError) as exc:
            raise fail(
                (*base, "snooze"), f"{rule.snooze!r} is not a time ({exc}).", "Write e.g. 1h, 2d, tomorrow 9:00."
            ) from None
    if rule.escalate and rule.escalate not in targets:
        known = ", ".join(sorted(targets)) or "none configured"
        raise fail((*base, "escalate"), f"no escalation target named {rule.escalate!r}.", f"Targets: {known}.")
    if rule.escalate_note and not rule.escalate:
        raise fail((*base, "escalate_note"), "`escalate_note` without `escalate`.", "Name the target in `escalate`.")
    if rule.reply and rule.reply not in replies:
        close = difflib.get_close_matches(rule.reply, sorted(replies), n=1)
        did = f"Did you mean {close[0]!r}? " if close else ""
        known = ", ".join(sorted(replies)) or "none configured"
        raise fail((*base, "reply"), f"no saved reply named {rule.reply!r}.", f"{did}Saved replies: {known}.")
    if rule.reply and not rule.auto_reply:
        raise fail(
            (*base, "reply"),
            f"rule {rule.name!r} would answer people without anyone reading first.",
            "Say so with auto_reply = true in the rule (or drop `reply`).",
        )


@check
def macros_are_unique_and_name_what_exists(cfg: Config, fail: Fail) -> None:
    """``[[macros]]``: checked in cminbox.core.macros (names, keys free, steps that exist)."""
    from cminbox.core.macros import check_config

    check_config(cfg, fail)


@check
def guidelines_are_unique_and_name_known_variables(cfg: Config, fail: Fail) -> None:
    """``[[guidelines]]``: distinct names, a text, a web URL, a follow-up naming only known variables."""
    from cminbox.core.guidelines import FOLLOW_UP_VARIABLES
    from cminbox.core.saved_replies import TemplateError
    from cminbox.core.saved_replies import check as check_template

    names: set[str] = set()
    for i, rule in enumerate(cfg.guidelines):
        if rule.name in names:
            raise fail(("guidelines", i, "name"), f"two guidelines are named {rule.name!r}.", "Names must be unique.")
        names.add(rule.name)
        if not rule.text.strip():
            raise fail(("guidelines", i, "text"), "the guideline has no text.", "Say the guideline in a sentence.")
        if rule.url:
            check_url(rule.url, ("guidelines", i, "url"), fail, sends_secrets=False)
        try:
            check_template(rule.follow_up, extra=tuple(FOLLOW_UP_VARIABLES))
        except TemplateError as exc:
            raise fail(("guidelines", i, "follow_up"), exc.message, exc.hint) from None


@check
def community_thank_you_is_a_saved_reply(cfg: Config, fail: Fail) -> None:
    """``[community] thank_you``: the saved reply it names exists."""
    name = cfg.community.thank_you
    replies = sorted(r.name for r in cfg.saved_replies)
    if name and name not in replies:
        known = ", ".join(replies) or "none configured"
        raise fail(("community", "thank_you"), f"no saved reply named {name!r}.", f"Saved replies: {known}.")
