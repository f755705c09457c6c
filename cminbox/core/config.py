"""The TOML configuration: where it is, what it may contain, and errors a person can act on.

Every validation error names the file, the line and the key, and says what to do.
Unknown keys are errors (a typo must never be silently ignored), and so are numbers and
choices outside their bounds (msgspec ``Meta`` constraints and ``Literal`` types on the
structs; ``config_where`` words the error with the range). Per-channel-type keys come from
the channel's ``Options`` struct, so a new channel adds its keys without touching this
module. ``[keys]`` is checked against the action table in ``keymap``.
"""

from __future__ import annotations

import difflib
import getpass
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import platformdirs

from cminbox.core import keymap, registry
from cminbox.core.channel import option_problems
from cminbox.core.config_where import dotted, explain, fields, hint_unknown, line_for, locate_keys
from cminbox.core.errors import CminboxError
from cminbox.core.http import is_loopback
from cminbox.core.query import QueryError
from cminbox.core.query import parse as parse_query
from cminbox.core.views import DEFAULT_VIEWS, Sort, View

APP = "cminbox"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class ChannelConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str
    type: str
    url: str = ""
    account: str = ""
    interval: Annotated[int, msgspec.Meta(ge=5, le=86400, description="seconds between polls")] = 60
    enabled: bool = True
    token_command: str = ""
    # The team's own accounts on this channel (handles as the channel shows them, e.g.
    # "@team@example.social"): a reply from one of them is an official answer, which the
    # collision check reports before a second reply is sent.
    staff: list[Annotated[str, msgspec.Meta(min_length=1, max_length=200)]] = msgspec.field(default_factory=list)
    options: Any = None  # the channel type's validated Options struct (not a TOML key)


class TargetConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str
    type: str = "webhook"
    url: str
    secret_command: str = ""
    timeout: Annotated[float, msgspec.Meta(ge=1, le=300, description="seconds")] = 10.0


class EscalationConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    targets: list[TargetConfig] = msgspec.field(default_factory=list)


class UIConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    theme: str = "cminbox-dark"
    auto_advance: bool = True
    mouse: bool = True
    preview: str = "right"
    sort: str = "newest"
    group_threads: bool = False
    view: str = "1"  # the saved view shown at start


# "" leaves it to the DSN or libpq (a default here would override a DSN's own `?sslmode=`).
SslMode = Literal["", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


class StoreConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Done items older than this move to the archive; 0 keeps all live.
    archive_after_days: Annotated[int, msgspec.Meta(ge=0, le=36500, description="days; 0 = never")] = 90
    # "tinydb": files in the data dir (one person, or instances on one host);
    # "postgresql": a team's shared database (core/pg/). The keys below are PostgreSQL's.
    backend: Literal["tinydb", "postgresql"] = "tinydb"
    dsn: str = ""  # postgresql://USER@HOST[:PORT]/DBNAME, never with a password
    password_command: str = ""  # prints the password; else the keyring (`cminbox login store`), else .pgpass
    # libpq's TLS and client options, passed through unchanged (absent: libpq's defaults).
    sslmode: SslMode = ""
    sslrootcert: str = ""
    sslcert: str = ""
    sslkey: str = ""
    connect_timeout: Annotated[int, msgspec.Meta(ge=1, le=300, description="seconds")] = 10
    application_name: Annotated[str, msgspec.Meta(max_length=63)] = "cminbox"


class ViewConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    key: str
    name: str
    query: str = ""


class SavedReply(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str
    text: str


class UserConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str = ""  # the older spelling of [team] me, read when that is absent


class TeamConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # Who this instance acts as: every triage action, note and reply is recorded under it.
    # "" is the OS user name. Teammates on one store each set their own.
    me: Annotated[str, msgspec.Meta(max_length=40, description="characters")] = ""
    # The teammates' names (their `me`): offered when assigning, and an assignment to any other
    # name is refused as a likely typo. Empty: any name is accepted.
    members: list[Annotated[str, msgspec.Meta(min_length=1, max_length=40)]] = msgspec.field(default_factory=list)


class _ConfigFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    user: UserConfig = msgspec.field(default_factory=UserConfig)
    team: TeamConfig = msgspec.field(default_factory=TeamConfig)
    ui: UIConfig = msgspec.field(default_factory=UIConfig)
    store: StoreConfig = msgspec.field(default_factory=StoreConfig)
    channels: list[dict[str, Any]] = msgspec.field(default_factory=list)
    escalation: EscalationConfig = msgspec.field(default_factory=EscalationConfig)
    keys: dict[str, str] = msgspec.field(default_factory=dict)
    views: list[ViewConfig] = msgspec.field(default_factory=list)
    saved_replies: list[SavedReply] = msgspec.field(default_factory=list)


@dataclass
class Config:
    path: Path | None = None
    user: UserConfig = field(default_factory=UserConfig)
    team: TeamConfig = field(default_factory=TeamConfig)
    ui: UIConfig = field(default_factory=UIConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    channels: list[ChannelConfig] = field(default_factory=list)
    targets: list[TargetConfig] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    views: list[View] = field(default_factory=lambda: list(DEFAULT_VIEWS))
    saved_replies: list[SavedReply] = field(default_factory=list)

    @property
    def actor(self) -> str:
        """Who this instance acts as (``[team] me``): the one source of every action's actor."""
        return self.team.me.strip() or self.user.name.strip() or os_user_name()

    def has_channel(self, name: str) -> bool:
        return any(ch.name == name for ch in self.channels)

    def channel(self, name: str) -> ChannelConfig:
        for ch in self.channels:
            if ch.name == name:
                return ch
        known = ", ".join(c.name for c in self.channels) or "none configured"
        raise ConfigError(self.path, None, None, f"no channel named {name!r} (configured: {known})")

    def target(self, name: str) -> TargetConfig:
        for t in self.targets:
            if t.name == name:
                return t
        known = ", ".join(t.name for t in self.targets) or "none configured"
        raise ConfigError(
            self.path,
            None,
            None,
            f"no escalation target named {name!r} (configured: {known}). Add one under [[escalation.targets]].",
        )


class ConfigError(CminboxError):
    def __init__(self, path: Path | None, line: int | None, key: str | None, problem: str, hint: str = "") -> None:
        self.path, self.line, self.key, self.problem, self.hint = path, line, key, problem, hint
        where = f"config error in {path}" if path else "config error"
        if line:
            where += f", line {line}"
        if key:
            where += f", key `{key}`"
        super().__init__(f"{where}: {problem}", hint)


def os_user_name() -> str:
    """The OS user name (``[team] me``'s default); "me" where the system has none (a container
    running under an unnamed uid)."""
    try:
        return getpass.getuser() or "me"
    except (OSError, KeyError):
        return "me"


def default_config_path() -> Path:
    return platformdirs.user_config_path(APP) / "config.toml"


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("CMINBOX_CONFIG")
    return Path(env) if env else default_config_path()


# --------------------------------------------------------------------- loading
def parse(source: str, path: Path | None = None) -> Config:
    """Validate TOML text into a Config, or raise ConfigError naming file, line and key."""
    # Editors on Windows may start the file with a byte order mark; TOML has no place for it.
    source = source.removeprefix("\ufeff")
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ConfigError(
            path,
            int(m.group(1)) if m else None,
            None,
            f"this is not valid TOML ({exc}).",
            "Check quotes, brackets and `key = value` syntax on that line.",
        ) from None
    where = locate_keys(source)

    def fail(p: tuple[str | int, ...], problem: str, hint: str = "") -> ConfigError:
        return ConfigError(path, line_for(where, p), dotted(p) if p else None, problem, hint)

    remaps = data.get("keys")
    for action_id, keys in remaps.items() if isinstance(remaps, dict) else ():
        if not isinstance(keys, str):  # checked here, as msgspec's error would not name the key
            raise fail(("keys", action_id), f"Expected a string of keys, got {keys!r}.", 'Write e.g. done = "d,D".')
    try:
        top = msgspec.convert(data, _ConfigFile, strict=True)
    except msgspec.ValidationError as exc:
        p, text, hint = explain(exc, _ConfigFile, data)
        if text.startswith("Object contains unknown field") and p:
            sections: dict[tuple[str | int, ...], type[msgspec.Struct]] = {
                (): _ConfigFile,
                ("user",): UserConfig,
                ("team",): TeamConfig,
                ("ui",): UIConfig,
                ("store",): StoreConfig,
                ("escalation",): EscalationConfig,
            }
            if len(p) >= 3 and p[0] in ("views", "saved_replies"):
                sections[p[:-1]] = ViewConfig if p[0] == "views" else SavedReply
            section = sections.get(p[:-1])
            if section is None and len(p) >= 3 and p[:2] == ("escalation", "targets"):
                section = TargetConfig
            allowed = fields(section) if section else []
            raise fail(
                p, f"unknown key `{p[-1]}`.", hint_unknown(str(p[-1]), allowed, dotted(p[:-1]) or "the top level")
            ) from None
        raise fail(p, text, hint) from None

    cfg = Config(
        path=path,
        user=top.user,
        team=top.team,
        ui=top.ui,
        store=top.store,
        keys=keymap.normalized(top.keys),
        targets=top.escalation.targets,
        saved_replies=top.saved_replies,
    )
    for action_id, problem, hint in keymap.problems(top.keys):
        raise fail(("keys", action_id), problem, hint)
    cfg.views = _views(top.views, fail)
    names: set[str] = set()
    for i, raw in enumerate(top.channels):
        cfg.channels.append(_channel(raw, i, fail, names))
    tnames: set[str] = set()
    for i, t in enumerate(cfg.targets):
        base = ("escalation", "targets", i)
        if t.name in tnames:
            raise fail((*base, "name"), f"two escalation targets are named {t.name!r}.", "Names must be unique.")
        tnames.add(t.name)
        if t.type not in registry.target_types():
            raise fail(
                (*base, "type"),
                f"unknown escalation target type {t.type!r}.",
                f"Known types: {', '.join(registry.target_types())}.",
            )
        _check_url(t.url, (*base, "url"), fail)
    _check_store(cfg.store, fail)
    _check_team(cfg.team, fail)
    if cfg.ui.preview not in ("right", "bottom", "off"):
        raise fail(("ui", "preview"), f"`preview` must be right, bottom or off, not {cfg.ui.preview!r}.")
    if cfg.ui.sort not in [s.value for s in Sort]:
        raise fail(("ui", "sort"), f"`sort` must be {', '.join(s.value for s in Sort)}, not {cfg.ui.sort!r}.")
    if cfg.ui.view not in {v.key for v in cfg.views}:
        raise fail(
            ("ui", "view"),
            f"no saved view has key {cfg.ui.view!r}.",
            f"Views: {', '.join(f'{v.key} ({v.name})' for v in cfg.views)}.",
        )
    return cfg


def _check_team(team: TeamConfig, fail: Any) -> None:
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


def _check_store(store: StoreConfig, fail: Any) -> None:
    """The PostgreSQL keys: a DSN when that backend is chosen, and never a password inside it."""
    from cminbox.core.pg.connection import dsn_has_password  # no psycopg import: works without the extra

    if store.backend == "tinydb":
        for key in ("dsn", "password_command", "sslmode", "sslrootcert", "sslcert", "sslkey"):
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
    for key in ("sslrootcert", "sslcert", "sslkey"):
        value = getattr(store, key)
        if value and value != "system" and not Path(value).expanduser().is_file():
            raise fail(("store", key), f"{value!r} is not a file.", f"`{key}` is the path of a PEM file.")


def _views(raw: list[ViewConfig], fail: Any) -> list[View]:
    """User views replace the default with the same key; the others stay."""
    by_key = {v.key: v for v in DEFAULT_VIEWS}
    for i, v in enumerate(raw):
        if v.key not in [str(n) for n in range(1, 10)]:
            raise fail(("views", i, "key"), f"view key {v.key!r} is not 1-9.", "Views live on the keys 1 to 9.")
        try:
            parse_query(v.query)
        except QueryError as exc:
            raise fail(("views", i, "query"), f"the query does not parse: {exc}.") from None
        by_key[v.key] = View(v.key, v.name, v.query)
    return [by_key[k] for k in sorted(by_key)]


def _check_url(
    url: str,
    p: tuple[str | int, ...],
    fail: Any,
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
            "Tokens would travel unencrypted: use https:// (plain http is allowed only for 127.0.0.1).",
        )


def _channel(raw: dict[str, Any], i: int, fail: Any, names: set[str]) -> ChannelConfig:
    base: tuple[str | int, ...] = ("channels", i)
    common = {k: v for k, v in raw.items() if k in ChannelConfig.__struct_fields__ and k != "options"}
    extra = {k: v for k, v in raw.items() if k not in common}
    for key in ("name", "type"):
        if key not in raw:
            raise fail(base, f"channel {i + 1} has no `{key}`.", f'Add `{key} = "..."` to this [[channels]] table.')
    try:
        ch = msgspec.convert(common, ChannelConfig, strict=True)
    except msgspec.ValidationError as exc:
        p, text, hint = explain(exc, ChannelConfig, common)
        raise fail((*base, *p), text, hint) from None
    if not NAME_RE.match(ch.name):
        raise fail(
            (*base, "name"),
            f"channel name {ch.name!r} is not allowed.",
            "Use lower-case letters, digits, - and _ (it becomes part of every message id).",
        )
    if ch.name in names:
        raise fail((*base, "name"), f"two channels are named {ch.name!r}.", "Channel names must be unique.")
    names.add(ch.name)
    try:
        cls = registry.load_channel(ch.type)
    except registry.UnknownTypeError:
        types = registry.channel_types()
        close = difflib.get_close_matches(ch.type, types, n=1)
        raise fail(
            (*base, "type"),
            f"unknown channel type {ch.type!r}.",
            (f"Did you mean {close[0]!r}? " if close else "") + f"Installed channel types: {', '.join(types)}.",
        ) from None
    options_cls = cls.Options
    allowed = fields(ChannelConfig) + (fields(options_cls) if options_cls else [])
    for key in extra:
        if options_cls is None or key not in options_cls.__struct_fields__:
            raise fail(
                (*base, key),
                f"unknown key `{key}` for a {ch.type} channel.",
                hint_unknown(key, allowed, f"a {ch.type} channel"),
            )
    if options_cls is not None:
        try:
            ch.options = msgspec.convert(extra, options_cls, strict=True)
        except msgspec.ValidationError as exc:
            p, text, hint = explain(exc, options_cls, extra)
            raise fail((*base, *p), text, hint) from None
    for key, problem, hint in option_problems(cls, ch.options):
        raise fail((*base, key), problem, hint)
    traits = cls.traits
    if ch.url:
        _check_url(ch.url, (*base, "url"), fail, traits.url_schemes, traits.sends_secrets)
    elif traits.needs_url:
        raise fail(base, f"channel {ch.name!r} has no `url`.", 'Add the server\'s base URL, e.g. url = "https://...".')
    return ch


def load(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Load the config from --config, $CMINBOX_CONFIG or the platform path; absent means empty."""
    path = config_path(explicit)
    if not path.exists():
        if explicit or os.environ.get("CMINBOX_CONFIG"):
            raise ConfigError(
                path,
                None,
                None,
                "the file does not exist.",
                "Create it with `cminbox config example > FILE`, or drop --config.",
            )
        return Config(path=path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, None, f"cannot be read ({exc}).") from None
    return parse(source, path)


EXAMPLE = """\
# cminbox configuration. Validate with `cminbox config check`.
# Tokens never go in this file: run `cminbox login NAME` (OS keyring), or set
# token_command to a command that prints the token (for hosts without a keyring).

[team]
me = "alex"                    # who you are: recorded with each action; defaults to the OS user name
# members = ["alex", "sam"]    # teammates: offered when assigning; other names are refused as typos

[ui]
theme = "cminbox-dark"         # cminbox-dark, cminbox-light, high-contrast, incident, or a file in themes/
auto_advance = true            # move to the next item that needs attention after each action
preview = "right"              # right, bottom or off

[store]
archive_after_days = 90        # done items older than this move to compressed archive files; 0 = never
# backend = "postgresql"       # a team's shared database instead of files (README: Team store on PostgreSQL)
# dsn = "postgresql://ana@db.example.com/cminbox"   # no password here: `cminbox login store` or ~/.pgpass
# sslmode = "verify-full"      # and sslrootcert, sslcert, sslkey, connect_timeout, application_name

[[channels]]
name = "mastodon"              # lower-case; becomes the prefix of every message id
type = "mastodon"
url = "https://mastodon.social"
account = "@community@mastodon.social"
interval = 60                  # seconds between polls
enabled = true
# token_command = "pass show cminbox/mastodon"
# backfill_pages = 2           # pages of older mentions fetched on first use

# More channel types (uncomment and adapt; the README lists every key of each):
# [[channels]]
# name = "gh"
# type = "github"              # notifications + new comments in repos; `cminbox login gh`
# repos = ["acme/app"]
#
# [[channels]]
# name = "forum"
# type = "discourse"           # new posts + notifications; the API key via `cminbox login forum`
# url = "https://discuss.example.org"
# account = "community-team"   # the Api-Username
#
# [[channels]]
# name = "reddit"
# type = "reddit"              # inbox + subreddits; `cminbox login reddit --password`
# account = "acme_community"
# client_id = "your-script-app-id"
# subreddits = ["acme"]
#
# [[channels]]
# name = "status"
# type = "feed"                # any RSS or Atom feed, read-only
# url = "https://status.example.com/history.atom"
#
# Also: type = "matrix", "bluesky" and "email" (see the README).

[[escalation.targets]]
name = "oncall"
type = "webhook"               # JSON POST; signed with HMAC-SHA256 when a secret is set
url = "https://hooks.example.com/cminbox"
# secret_command = "pass show cminbox/oncall-webhook"

[keys]
# action id = "keys" (comma-separated); `?` in the app lists every action id.
# done = "d,D"

# Saved views on the keys 1-9 (defaults: 1 needs reply, 2 escalated, 3 mine, 4 snoozed due, 5 all).
[[views]]
key = "6"
name = "outage"
query = "tag:outage -status:done"

# Saved replies, insertable in the reply composer.
[[saved_replies]]
name = "thanks"
text = "Thanks for reaching out! We're looking into it and will get back to you here."
"""
