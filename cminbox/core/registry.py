"""Channel and escalation-target types, discovered through entry points.

A third party ships a channel as a package declaring, in its pyproject::

    [project.entry-points."cminbox.channels"]
    forgejo = "cminbox_forgejo:ForgejoChannel"

A channel class declares its optional features as ``traits`` (a
:class:`~cminbox.core.channel.ChannelTraits`, next to ``capabilities``). A package written
before traits existed still loads and behaves as it did: :func:`load_channel` gives a class
that declares no ``traits`` (and no ``Options``) the declaration it used to be read from,
once, here: the defaults, with the pre-traits class attributes (``url_schemes``,
``needs_url``, ``sends_secrets``, ``needs_secret``, ``secret_label``, ``login_secrets``)
and methods (``mark_read``, ``password_login``, ``check_options``) it has turned into their
flags. This is the only place those names are looked up; everything else asks the traits.

What a type declares without its adapter (options, capabilities, traits, option checks) is
:func:`declaration`: the config and the TUI's first frame ask that, not the class.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any, cast

import msgspec

from cminbox.core.channel import Channel, ChannelDeclaration, ChannelTraits
from cminbox.core.errors import CminboxError

CHANNEL_GROUP = "cminbox.channels"
TARGET_GROUP = "cminbox.escalation_targets"


class UnknownTypeError(CminboxError, LookupError):
    pass


# cminbox's own channel types and the modules declaring them (cminbox/channels/declared/):
# the same names as this distribution's `cminbox.channels` entry points, which a test keeps
# equal. Data, not imports: the config, `cminbox list` and the TUI's first frame find a
# built-in type's declaration here without importlib.metadata (~50 ms of imports before it
# has read anything) and without the adapter (httpx and its CLI's rich/click: ~0.1 s more).
# A built-in name is reserved: a package registering its own "mastodon" is not asked.
BUILT_IN = {
    "mastodon": "cminbox.channels.declared.mastodon",
    "email": "cminbox.channels.declared.mail",
    "matrix": "cminbox.channels.declared.matrix",
    "bluesky": "cminbox.channels.declared.bluesky",
    "github": "cminbox.channels.declared.github",
    "discourse": "cminbox.channels.declared.discourse",
    "reddit": "cminbox.channels.declared.reddit",
    "feed": "cminbox.channels.declared.feed",
}


@cache
def _names(group: str) -> dict[str, Any]:
    from importlib.metadata import entry_points  # only when a name is not a built-in one

    return {ep.name: ep for ep in entry_points(group=group)}


def channel_types() -> list[str]:
    return sorted(_names(CHANNEL_GROUP))


def target_types() -> list[str]:
    return sorted(_names(TARGET_GROUP))


def _load(group: str, name: str, what: str) -> Any:
    ep = _names(group).get(name)
    if ep is None:
        known = ", ".join(sorted(_names(group))) or "none installed"
        raise UnknownTypeError(f"unknown {what} type {name!r} (known: {known})")
    return ep.load()


# The channel classes that declared no traits and were given them here (pre-traits packages).
PRE_TRAITS: set[type] = set()

# What a pre-traits class said with an attribute of a field's name, or by having a method.
_PRE_TRAITS_ATTRIBUTES = ("url_schemes", "needs_url", "sends_secrets", "needs_secret", "secret_label", "login_secrets")
_PRE_TRAITS_METHODS = {
    "mark_read": "marks_read",
    "password_login": "supports_password_login",
    "check_options": "checks_options",
}


def load_channel(type_name: str) -> type[Channel]:
    cls = _load(CHANNEL_GROUP, type_name, "channel")
    if not _declares(cls, "traits"):
        cls.traits = _pre_traits(cls)
        PRE_TRAITS.add(cls)
    if not _declares(cls, "Options"):
        cls.Options = None
    return cls  # type: ignore[no-any-return]


def declaration(type_name: str) -> ChannelDeclaration:
    """What a channel type declares (options, capabilities, traits, option checks), without
    importing its adapter when it is a built-in one. Raises UnknownTypeError."""
    module = BUILT_IN.get(type_name)
    if module is not None:
        return cast(ChannelDeclaration, importlib.import_module(module).DECLARATION)
    return ChannelDeclaration.of(load_channel(type_name))


def load_target(type_name: str) -> Any:
    return _load(TARGET_GROUP, type_name, "escalation target")


def _declares(cls: type, name: str) -> bool:
    return any(name in vars(klass) for klass in cls.__mro__)


def _pre_traits(cls: type) -> ChannelTraits:
    """The traits of a class written before they existed, read from the hooks cminbox used to
    look for (compatibility only: a class that declares ``traits`` is never read this way)."""
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):  # the most derived class's value wins
        found.update({name: vars(klass)[name] for name in _PRE_TRAITS_ATTRIBUTES if name in vars(klass)})
    found.update({flag: True for method, flag in _PRE_TRAITS_METHODS.items() if _declares(cls, method)})
    return msgspec.structs.replace(ChannelTraits(), **found)
