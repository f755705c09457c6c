"""The TOML configuration: where it is, loading it, and errors a person can act on.

Every option is declared once, in ``config_schema`` (type, default, bounds, choices, a
description); msgspec validates against those declarations, ``config_where`` words its errors
(file, line, key, the range allowed, the closest known key), and the checks no declaration can
express are the named functions of ``config_checks``. Per-channel-type keys come from the
channel's ``Options`` struct, so a new channel adds its keys without touching this module.
``config_docs`` and ``config_jsonschema`` derive the example file, the README's key table and
a JSON Schema for editors from the same declarations.
"""

from __future__ import annotations

import dataclasses
import difflib
import getpass
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import platformdirs

from cminbox.core import config_checks, keymap, registry
from cminbox.core.config_schema import (
    NAME_PATTERN,
    ChannelConfig,
    CommunityConfig,
    ConfigFile,
    EscalationConfig,
    Guideline,
    MacroConfig,
    RuleConfig,
    SavedReply,
    SslMode,
    StoreConfig,
    TargetConfig,
    TeamConfig,
    UIConfig,
    UserConfig,
    ViewConfig,
)
from cminbox.core.config_where import (
    Fail,
    KeyPath,
    dotted,
    explain,
    fields,
    hint_unknown,
    key_on_line,
    line_for,
    locate_keys,
)
from cminbox.core.errors import CminboxError
from cminbox.core.views import DEFAULT_VIEWS, View

# The tables are declared in config_schema; their names stay importable from here.
__all__ = [
    "APP",
    "NAME_RE",
    "ChannelConfig",
    "Config",
    "ConfigError",
    "ConfigFile",
    "EscalationConfig",
    "Guideline",
    "MacroConfig",
    "RuleConfig",
    "SavedReply",
    "SslMode",
    "StoreConfig",
    "TargetConfig",
    "TeamConfig",
    "UIConfig",
    "UserConfig",
    "ViewConfig",
    "config_path",
    "default_config_path",
    "load",
    "os_user_name",
    "parse",
]

APP = "cminbox"
NAME_RE = re.compile(NAME_PATTERN)


@dataclass
class Config:
    """What the rest of cminbox reads: the tables of the file (a field named like one of
    ``ConfigFile``'s is taken from it as written), the channels with their type's options
    parsed, the escalation targets, the views merged with the defaults, the keys normalised."""

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
    rules: list[RuleConfig] = field(default_factory=list)
    guidelines: list[Guideline] = field(default_factory=list)
    macros: list[MacroConfig] = field(default_factory=list)
    community: CommunityConfig = field(default_factory=CommunityConfig)
    # The file as written (what the checks need beside the above: e.g. the views' positions).
    document: ConfigFile = field(default_factory=ConfigFile, repr=False)

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
        raise ConfigError(self.path, None, None, f"no channel named {name!r} (configured: {self.channel_names()})")

    def channel_names(self) -> str:
        """The configured channels' names, for a message that names a channel wrongly."""
        return ", ".join(c.name for c in self.channels) or "none configured"

    def marks_read(self, channel: str) -> bool:
        """Does marking an item done also mark it read on this channel (its option, where the
        channel type can)? False for a channel no longer configured."""
        if not self.has_channel(channel):
            return False
        cfg = self.channel(channel)
        wants = bool(getattr(cfg.options, "mark_read_on_done", False))  # an option, not a channel feature
        return wants and registry.declaration(cfg.type).traits.marks_read


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


def log_path() -> Path:
    """Where the log goes (the CLI sets it up; the TUI names it when it stops on a bug)."""
    return platformdirs.user_log_path(APP) / "cminbox.log"


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
        line = int(m.group(1)) if m else None
        found = key_on_line(source, line) if line else None
        hint = "Check quotes, brackets and `key = value` syntax on that line."
        if found and "overwrite" in str(exc):
            hint = "The key is set twice in this table: keep one."
        elif found and re.fullmatch(r"[A-Za-z][\w .:/-]*", found[1]) and found[1] not in ("true", "false"):
            hint = f'A text value needs quotes: {found[0][-1]} = "{found[1]}".'
        raise ConfigError(
            path, line, dotted(found[0]) if found else None, f"this is not valid TOML ({exc}).", hint
        ) from None
    where = locate_keys(source)

    def fail(p: KeyPath, problem: str, hint: str = "") -> ConfigError:
        return ConfigError(path, line_for(where, p), dotted(p) if p else None, problem, hint)

    remaps = data.get("keys")
    for action_id, keys in remaps.items() if isinstance(remaps, dict) else ():
        if not isinstance(keys, str):  # checked here, as msgspec's error would not name the key
            raise fail(("keys", action_id), f"Expected a string of keys, got {keys!r}.", 'Write e.g. done = "d,D".')
    try:
        top = msgspec.convert(data, ConfigFile, strict=True)
    except msgspec.ValidationError as exc:
        raise fail(*explain(exc, ConfigFile, data)) from None
    views = {v.key: v for v in DEFAULT_VIEWS}  # a view of the file replaces the default on its key
    views.update({v.key: View(v.key, v.name, v.query) for v in top.views})
    # A table Config names like the file does is taken as it is (a new section needs no code here).
    as_written = {f.name: getattr(top, f.name) for f in dataclasses.fields(Config) if f.name in top.__struct_fields__}
    cfg = Config(
        **{
            **as_written,
            "path": path,
            "channels": [_channel(raw, i, fail) for i, raw in enumerate(top.channels)],
            "targets": top.escalation.targets,
            "keys": keymap.normalized(top.keys),
            "views": [views[k] for k in sorted(views)],
            "document": top,
        }
    )
    config_checks.run(cfg, fail)
    return cfg


def _channel(raw: dict[str, Any], i: int, fail: Fail) -> ChannelConfig:
    """A [[channels]] table: the keys every channel has, then those its type's Options declares."""
    base: KeyPath = ("channels", i)
    common_keys = fields(ChannelConfig)
    common = {k: v for k, v in raw.items() if k in common_keys}
    extra = {k: v for k, v in raw.items() if k not in common}
    for key in ("name", "type"):
        if key not in raw:
            raise fail(base, f"channel {i + 1} has no `{key}`.", f'Add `{key} = "..."` to this [[channels]] table.')
    try:
        ch = msgspec.convert(common, ChannelConfig, strict=True)
    except msgspec.ValidationError as exc:
        p, text, hint = explain(exc, ChannelConfig, common)
        raise fail((*base, *p), text, hint) from None
    try:
        declared = registry.declaration(ch.type)
    except registry.UnknownTypeError:
        types = registry.channel_types()
        close = difflib.get_close_matches(ch.type, types, n=1)
        raise fail(
            (*base, "type"),
            f"unknown channel type {ch.type!r}.",
            (f"Did you mean {close[0]!r}? " if close else "") + f"Installed channel types: {', '.join(types)}.",
        ) from None
    options_cls = declared.Options
    allowed = common_keys + (fields(options_cls) if options_cls else [])
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
                # Name what the user actually set (the trial set $CMINBOX_CONFIG and was told to drop --config).
                "Create it with `cminbox config example > FILE`, or "
                + ("drop --config." if explicit else "unset CMINBOX_CONFIG."),
            )
        return Config(path=path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, None, None, f"cannot be read ({exc.strerror or exc}).") from None
    return parse(_utf8(data, path), path)


def _utf8(data: bytes, path: Path) -> str:
    """The file's text; one that is not UTF-8 (TOML's encoding) is said with the line and column
    of its first byte that is not, rather than as a file that "cannot be read"."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(path, 1, None, "the file is saved as UTF-16.", "Save it as UTF-8 (TOML files are UTF-8).")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise ConfigError(
            path,
            line,
            None,
            f"byte 0x{data[exc.start]:02x} at column {column} is not UTF-8 (the file has another encoding).",
            "Save it as UTF-8 (TOML files are UTF-8).",
        ) from None


def __getattr__(name: str) -> Any:
    if name == "EXAMPLE":  # generated from the declarations, on first use (it loads every channel type)
        from cminbox.core.config_docs import example

        return example()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
