"""Every option of the TOML configuration, declared once.

Each option is a field of a msgspec struct: its type (a ``Literal`` for a choice), its default,
and an ``opt(...)`` annotation with a one-line description, its bounds (msgspec ``Meta``
constraints), an example value and whether the example file shows it commented out. Everything
else is derived from these declarations:

- validation and its errors (``config.parse`` with msgspec; ``config_where`` words the error,
  the allowed range or values and, for an unknown key, the keys its table allows);
- ``cminbox config example`` (``config_docs.example``), ``cminbox config docs`` (the README's
  key table) and ``cminbox config schema`` (a JSON Schema for editors, ``config_jsonschema``).

A channel type's own keys are its ``Options`` struct, declared the same way in its module.
What no type can say (names unique, ``me`` among ``members``, no password in a DSN ...) is a
named check in ``config_checks``. A new section is a field of :class:`ConfigFile` (and of
``config.Config``, which holds what the rest of cminbox reads).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"

# The choices, as types: msgspec refuses any other value and the error lists these.
if TYPE_CHECKING:
    Preview = str  # the TUI cycles it through its own tuple of the same values
else:
    Preview = Literal["right", "bottom", "off"]
SortOrder = Literal["newest", "oldest", "priority", "sentiment"]  # views.Sort's values (a test keeps them equal)
Backend = Literal["tinydb", "postgresql"]
# "" leaves it to the DSN or libpq (a default here would override a DSN's own `?sslmode=`).
SslMode = Literal["", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
ViewKey = Literal["1", "2", "3", "4", "5", "6", "7", "8", "9"]

_NO_EXAMPLE: Any = object()


def opt(
    description: str,
    *,
    example: Any = _NO_EXAMPLE,
    commented: bool = False,
    deprecated: bool = False,
    inline: bool = False,
    **bounds: Any,
) -> msgspec.Meta:
    """An option's declaration beside its type and default, as a msgspec ``Meta``.

    ``description``: one line, shown in errors (after the allowed range), the example file,
    the README table and editors. ``example``: the value the example file shows (else the
    default; a key without a default needs one). ``commented``: the example file shows the key
    commented out (a secret's command, the PostgreSQL keys), so the example works as it is.
    ``bounds``: msgspec's constraints (ge, le, min_length, max_length, pattern). ``inline``: a
    list of tables written inline as one key's value (a macro's ``steps``), not as sub-tables.
    """
    extra = {"commented": commented, "deprecated": deprecated, "inline": inline}
    return msgspec.Meta(
        description=description,
        examples=None if example is _NO_EXAMPLE else [example],
        extra_json_schema={"deprecated": True} if deprecated else None,
        extra={k: v for k, v in extra.items() if v} or None,
        **bounds,
    )


# Not a TOML key: a field the loader fills in (the channel's parsed options).
INTERNAL = msgspec.Meta(extra={"internal": True})
NAME_MAX = 40  # a teammate's name: `me`, `members`, a rule's or macro's `assign`, an assignee
_Name = Annotated[str, msgspec.Meta(min_length=1, max_length=NAME_MAX)]
_Account = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class UserConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The older spelling of `[team] me`, read when that is absent."""

    name: Annotated[str, opt("who you are", example="alex", commented=True)] = ""


class TeamConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Who this instance acts as, and the teammates sharing its store."""

    me: Annotated[
        str,
        opt(
            "who this instance acts as, recorded with every action, note and reply; teammates on one store "
            "each set their own; empty: the OS user name",
            max_length=NAME_MAX,
            example="alex",
            commented=True,
        ),
    ] = ""
    members: Annotated[
        list[_Name],
        opt(
            "the teammates' names (their `me`): assigning offers them and refuses any other name as a "
            "likely typo, and `me` must be one of them; empty: any name",
            example=["alex", "sam"],
            commented=True,
        ),
    ] = msgspec.field(default_factory=list)


class UIConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The terminal inbox."""

    theme: Annotated[
        str,
        opt(
            "cminbox-dark, cminbox-light, high-contrast, incident, a theme file's name in themes/, "
            "or one of Textual's (dracula, nord, textual-light, ...)"
        ),
    ] = "cminbox-dark"
    auto_advance: Annotated[bool, opt("move to the next item that needs attention after each action")] = True
    mouse: Annotated[
        bool, opt("use the mouse (clicks, the wheel); false leaves it to the terminal, as `--no-mouse` does")
    ] = True
    preview: Annotated[Preview, opt("where the preview pane is at start (`v` cycles it)")] = "right"
    sort: Annotated[SortOrder, opt("the order of the inbox at start (`S` cycles it)")] = "newest"
    group_threads: Annotated[bool, opt("keep each conversation together at start (`z` toggles it)")] = False
    view: Annotated[ViewKey, opt("the key of the saved view shown at start")] = "1"


_PG = "PostgreSQL only: "


class StoreConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Where the inbox is kept: files in the data dir, or a team's PostgreSQL database."""

    archive_after_days: Annotated[
        int,
        opt(
            "days after which done items with no activity move to the archive (checked hourly by the "
            "instance that polls); 0 = never",
            ge=0,
            le=36500,
        ),
    ] = 90
    backend: Annotated[
        Backend,
        opt(
            "tinydb: files in the data dir (one person, or instances on one host); postgresql: a team's "
            "shared database (README: Team store on PostgreSQL)",
            example="postgresql",
            commented=True,
        ),
    ] = "tinydb"
    dsn: Annotated[
        str,
        opt(
            _PG + "postgresql://USER@HOST[:PORT]/DBNAME, never with a password",
            example="postgresql://ana@db.example.com/cminbox",
            commented=True,
        ),
    ] = ""
    password_command: Annotated[
        str,
        opt(
            _PG + "prints the password; else the keyring (`cminbox login store`), else ~/.pgpass",
            example="pass show cminbox/db",
            commented=True,
        ),
    ] = ""
    # libpq's TLS and client options, passed through unchanged (absent: libpq's defaults).
    sslmode: Annotated[
        SslMode, opt(_PG + "libpq's sslmode; empty: the DSN's or libpq's", example="verify-full", commented=True)
    ] = ""
    sslrootcert: Annotated[
        str,
        opt(_PG + "the CA's certificate (a PEM file), or `system`", example="~/.postgresql/ca.pem", commented=True),
    ] = ""
    sslcert: Annotated[
        str, opt(_PG + "a client certificate (a PEM file)", example="~/.postgresql/ana.crt", commented=True)
    ] = ""
    sslkey: Annotated[
        str, opt(_PG + "the client certificate's key (a PEM file)", example="~/.postgresql/ana.key", commented=True)
    ] = ""
    connect_timeout: Annotated[int, opt(_PG + "seconds to wait for a connection", ge=1, le=300)] = 10
    application_name: Annotated[str, opt(_PG + "how the server lists this instance's connections", max_length=63)] = (
        "cminbox"
    )


class ChannelConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One account on one service, polled into the inbox; the channel type adds its own keys."""

    name: Annotated[
        str,
        opt(
            "lower-case letters, digits, - and _: the prefix of every message id",
            pattern=NAME_PATTERN,
            example="mastodon",
        ),
    ]
    type: Annotated[str, opt("the channel type: one of those installed", example="mastodon")]
    url: Annotated[
        str,
        opt(
            "the server's base URL: https, or http to 127.0.0.1 only (a feed may be http: it is sent no credential)",
            example="https://mastodon.social",
        ),
    ] = ""
    account: Annotated[str, opt("the account, as the service shows it", example="@community@mastodon.social")] = ""
    interval: Annotated[int, opt("seconds between polls", ge=5, le=86400)] = 60
    enabled: Annotated[bool, opt("poll it; false keeps its items but polls no more")] = True
    token_command: Annotated[
        str,
        opt(
            "prints the token, for hosts without a keyring (else `cminbox login NAME` keeps it in the keyring)",
            example="pass show cminbox/mastodon",
            commented=True,
        ),
    ] = ""
    staff: Annotated[
        list[_Account],
        opt(
            "the team's own accounts on this channel: a reply from one counts as an official answer in the "
            "collision check, and they are staff among the people (from:staff)",
            example=["@team@mastodon.social"],
            commented=True,
        ),
    ] = msgspec.field(default_factory=list)
    options: Annotated[Any, INTERNAL] = None  # the channel type's validated Options struct


class TargetConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Where `e` (and `cminbox escalate --to NAME`) sends an item."""

    name: Annotated[str, opt("the target's name", example="oncall")]
    type: Annotated[str, opt("webhook: a JSON POST, signed with HMAC-SHA256 when a secret is set")] = "webhook"
    url: Annotated[
        str, opt("where it is delivered: https, or http to 127.0.0.1 only", example="https://hooks.example.com/cminbox")
    ]
    secret_command: Annotated[
        str, opt("prints the signing secret", example="pass show cminbox/oncall-webhook", commented=True)
    ] = ""
    timeout: Annotated[float, opt("seconds to wait for the target's answer", ge=1, le=300)] = 10.0


class EscalationConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Escalation: its targets."""

    targets: list[TargetConfig] = msgspec.field(default_factory=list)


class ViewConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A saved view on a number key; 1 to 5 have defaults (needs reply, escalated, mine, snoozed due, all)."""

    key: Annotated[ViewKey, opt("the key that shows it; replaces a default view on that key", example="6")]
    name: Annotated[str, opt("shown in the view line", example="outage")]
    query: Annotated[
        str,
        opt(
            "a filter as typed after `/` (checked when the config loads); empty: every item",
            example="tag:outage -status:done",
        ),
    ] = ""


class SavedReply(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A reply text the reply composer inserts."""

    name: Annotated[str, opt("what the composer lists", example="thanks")]
    text: Annotated[
        str,
        opt(
            "the text inserted",
            example="Thanks for reaching out! We're looking into it and will get back to you here.",
        ),
    ]


RulePriority = Literal["", "low", "normal", "high", "urgent"]
RuleStatus = Literal["", "new", "open", "waiting", "done"]  # escalating is `escalate`, which sends too


class RuleConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A rule, run on every new item at ingest (in file order, before the item is shown) and by
    `cminbox rules apply`: when its query matches, its effects apply."""

    name: Annotated[
        str,
        opt(
            "lower-case letters, digits, - and _: the history says `rule NAME: ...`",
            pattern=NAME_PATTERN,
            example="bugs",
        ),
    ]
    when: Annotated[
        str,
        opt(
            "a filter as typed after `/` that the item must match (checked when the config loads)",
            example='("found a bug" or "crash report") -tag:bug',
        ),
    ]
    tag: Annotated[list[str], opt("tags to add", example=["bug"])] = msgspec.field(default_factory=list)
    untag: Annotated[list[str], opt("tags to remove")] = msgspec.field(default_factory=list)
    priority: Annotated[RulePriority, opt("set the priority (empty: leave it)")] = ""
    assign: Annotated[str, opt("assign it to this teammate (one of [team] members when set)", max_length=NAME_MAX)] = ""
    status: Annotated[RuleStatus, opt("set the status (empty: leave it)")] = ""
    snooze: Annotated[str, opt("snooze it, as `cminbox snooze` takes it: 1h, 2d, tomorrow 9:00")] = ""
    mute: Annotated[
        str, opt("close it as noise, with this reason (spam, bot...): done, tagged muted, the reason as a note")
    ] = ""
    escalate: Annotated[str, opt("escalate it to this target of [[escalation.targets]] (delivered once)")] = ""
    escalate_note: Annotated[str, opt("the note that goes with `escalate`")] = ""
    reply: Annotated[
        str,
        opt(
            "answer with this saved reply (its name), at most once per author per day; needs auto_reply = true",
        ),
    ] = ""
    auto_reply: Annotated[
        bool,
        opt("allow `reply`: never to staff, troll or muted authors, nor to items older than the rule"),
    ] = False
    stop: Annotated[bool, opt("when it matches, the rules after it do not run on the item")] = False


class CommunityConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Community answers (README: Community answers): what confirming one does."""

    thank_you: Annotated[
        str,
        opt(
            "the saved reply (its name) sent to the helper when a confirm asks for a thank-you; empty: none",
            example="thanks for helping",
            commented=True,
        ),
    ] = ""


class ConfigFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The whole file, as written (``config.parse`` turns it into a ``config.Config``). A table's
    docstring is its description in the example file, the README and editors."""

    user: Annotated[UserConfig, opt("the older spelling of `[team] me`", deprecated=True)] = msgspec.field(
        default_factory=UserConfig
    )
    team: TeamConfig = msgspec.field(default_factory=TeamConfig)
    ui: UIConfig = msgspec.field(default_factory=UIConfig)
    store: StoreConfig = msgspec.field(default_factory=StoreConfig)
    # Converted in two steps (the common keys, then the type's Options): see config.parse.
    channels: list[dict[str, Any]] = msgspec.field(default_factory=list)
    escalation: EscalationConfig = msgspec.field(default_factory=EscalationConfig)
    keys: Annotated[
        dict[str, str],
        opt(
            'remaps an action\'s keys: action id = "keys", comma-separated; `?` in the app lists every action id',
            example={"done": "d,D"},
            commented=True,
        ),
    ] = msgspec.field(default_factory=dict)
    views: list[ViewConfig] = msgspec.field(default_factory=list)
    saved_replies: list[SavedReply] = msgspec.field(default_factory=list)
    rules: list[RuleConfig] = msgspec.field(default_factory=list)
    macros: list[MacroConfig] = msgspec.field(default_factory=list)
    guidelines: list[Guideline] = msgspec.field(default_factory=list)
    community: CommunityConfig = msgspec.field(default_factory=CommunityConfig)


MacroPriority = Literal["low", "normal", "high", "urgent"]
MacroStatus = Literal["new", "open", "waiting", "done"]  # escalating is the `escalate` step, which sends too


class MacroEscalation(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A macro's `escalate` step: where the item goes, delivered once through the outbox."""

    target: Annotated[str, opt("an [[escalation.targets]] name", example="oncall")]
    note: Annotated[str, opt("the note that goes with it")] = ""
    priority: Annotated[MacroPriority, opt("the escalation's priority")] = "high"


class MacroStep(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """One step of a macro: an inline table with exactly one of these keys."""

    tag: Annotated[list[str] | None, opt("tags to add")] = None
    untag: Annotated[list[str] | None, opt("tags to remove")] = None
    status: Annotated[MacroStatus | None, opt("set the status")] = None
    priority: Annotated[MacroPriority | None, opt("set the priority")] = None
    assign: Annotated[str | None, opt("assign to this teammate (one of [team] members when set); empty: nobody")] = None
    snooze: Annotated[str | None, opt("snooze, as `cminbox snooze` takes it: 1h, 2d, tomorrow 9:00")] = None
    reply: Annotated[str | None, opt("reply with this saved reply (its name), its variables filled in per item")] = None
    escalate: Annotated[MacroEscalation | None, opt("escalate: {target = NAME, note = TEXT, priority = ...}")] = None
    note: Annotated[str | None, opt("add an internal note")] = None
    done: Annotated[bool | None, opt('true: mark done (as `d`; the same as status = "done")')] = None


class MacroConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A macro (playbook): its steps applied to the item or the whole selection as one action, one
    `u` to undo (`m` in the inbox picks one; its `key` runs it; `cminbox macro NAME`)."""

    name: Annotated[
        str,
        opt(
            "lower-case letters, digits, - and _: the history says `macro NAME: ...`",
            pattern=NAME_PATTERN,
            example="outage",
        ),
    ]
    key: Annotated[
        str, opt("one key that runs it in the inbox, not taken by an action; empty: only from `m`", example="O")
    ] = ""
    description: Annotated[str, opt("what it is for, shown in the picker", max_length=200)] = ""
    steps: Annotated[
        list[MacroStep],
        opt(
            "what it does, in order: inline tables of one key each (tag, untag, status, priority, assign, snooze, "
            "reply, escalate, note, done)",
            example=[{"tag": ["outage"]}, {"reply": "thanks"}, {"done": True}],
            inline=True,
            min_length=1,
        ),
    ]


class Guideline(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A community guideline: moderating with it offers to tell the author which one applied."""

    name: Annotated[
        str,
        opt(
            "lower-case letters, digits, - and _: `--guideline NAME` and the history use it",
            pattern=NAME_PATTERN,
            example="be-kind",
        ),
    ]
    text: Annotated[
        str,
        opt("the guideline in a sentence: `{guideline.text}` in the follow-up", example="Be kind to each other."),
    ]
    url: Annotated[
        str, opt("where the guideline is published (http or https; empty: none)", example="https://example.org/rules")
    ] = ""
    follow_up: Annotated[
        str,
        opt(
            "the message to the author; saved-reply variables plus {guideline.name}, {guideline.text}, "
            "{guideline.url} and {action}; empty: the built-in one"
        ),
    ] = ""
