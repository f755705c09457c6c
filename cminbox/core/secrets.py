"""Credentials: the OS keyring, or a per-channel ``token_command``. Never plain text.

keyring picks a backend silently, and three of its choices are traps on a headless
SSH box: ``fail`` (every call raises), ``null`` (writes vanish) and ``keyrings.alt``'s
plaintext/base64 file (a token in plain text, which cminbox refuses to do). These are
detected and explained. Keyring calls may hang waiting for a locked collection to be
unlocked, so they run in a worker thread with a timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import shlex
import subprocess
from collections.abc import Callable
from typing import TypeVar

import msgspec

from cminbox.core.errors import CminboxError
from cminbox.core.redact import redactor

SERVICE = "cminbox"
KEYRING_TIMEOUT = 10.0
COMMAND_TIMEOUT = 20.0
T = TypeVar("T")


class SecretError(CminboxError):
    pass


class KeyringStatus(msgspec.Struct, frozen=True):
    usable: bool
    backend: str
    problem: str = ""


_UNSAFE_HINT = (
    "Install a real keyring (GNOME Keyring or KWallet with D-Bus, macOS Keychain, Windows "
    "Credential Locker), or set `token_command` for the channel, e.g. `pass show cminbox/NAME`."
)


def keyring_status() -> KeyringStatus:
    import keyring  # imported lazily: probing backends costs ~50 ms

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    low = name.lower()
    if "fail" in low:
        return KeyringStatus(
            False, name, "no keyring backend is available on this host (no D-Bus session?). " + _UNSAFE_HINT
        )
    if "null" in low:
        return KeyringStatus(
            False, name, "the keyring backend is `null`, which silently discards secrets. " + _UNSAFE_HINT
        )
    if "keyrings.alt" in low or "plaintext" in low or ("encryptedkeyring" in low and "alt" in low):
        return KeyringStatus(
            False,
            name,
            "the keyring backend stores secrets in a plain or base64 file, which cminbox will not use. " + _UNSAFE_HINT,
        )
    return KeyringStatus(True, name)


def _with_timeout(fn: Callable[[], T], what: str) -> T:
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="keyring")
    try:
        return pool.submit(fn).result(timeout=KEYRING_TIMEOUT)
    except concurrent.futures.TimeoutError:
        raise SecretError(
            f"{what}: the keyring did not answer within {KEYRING_TIMEOUT:.0f} s "
            "(is the collection locked? unlock it, or use token_command)"
        ) from None
    finally:
        pool.shutdown(wait=False)


def keyring_get(entry: str) -> str | None:
    import keyring
    from keyring.errors import KeyringError

    status = keyring_status()
    if not status.usable:
        raise SecretError(status.problem)
    try:
        value = _with_timeout(lambda: keyring.get_password(SERVICE, entry), f"reading {entry!r}")
    except KeyringError as exc:
        raise SecretError(f"the keyring refused to read {entry!r}: {type(exc).__name__}") from None
    if value:
        redactor.add(value)
    return value


def keyring_set(entry: str, secret: str) -> None:
    import keyring
    from keyring.errors import KeyringError

    status = keyring_status()
    if not status.usable:
        raise SecretError(status.problem)
    redactor.add(secret)
    try:
        _with_timeout(lambda: keyring.set_password(SERVICE, entry, secret), f"storing {entry!r}")
    except KeyringError as exc:
        raise SecretError(f"the keyring refused to store {entry!r}: {type(exc).__name__}") from None


def run_token_command(command: str, entry: str, key: str = "token_command") -> str:
    """Run ``token_command`` (no shell) and return its first output line. ``key``: the config
    key that set the command, as errors name it (the store's is ``password_command``, which
    failures called "token_command": fault trial of 2026-12-01)."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise SecretError(f"{key} for {entry!r} cannot be parsed: {exc}") from None
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        raise SecretError(f"{key} for {entry!r}: program {argv[0]!r} not found") from None
    except subprocess.TimeoutExpired:
        raise SecretError(f"{key} for {entry!r} did not finish within {COMMAND_TIMEOUT:.0f} s") from None
    if done.returncode != 0:
        # stderr may echo the secret on some tools: report only the exit status.
        raise SecretError(f"{key} for {entry!r} failed with exit status {done.returncode}")
    token = done.stdout.strip().splitlines()[0].strip() if done.stdout.strip() else ""
    if not token:
        raise SecretError(f"{key} for {entry!r} printed nothing")
    redactor.add(token)
    return token


class Secrets:
    """Resolves a channel's or target's secret. ``overrides`` serve the demo and tests."""

    def __init__(self, overrides: dict[str, str] | None = None) -> None:
        self.overrides = dict(overrides or {})
        for value in self.overrides.values():
            redactor.add(value)

    def get(self, entry: str, command: str = "") -> str | None:
        if entry in self.overrides:
            value: str | None = self.overrides[entry]
        elif command:
            value = run_token_command(command, entry)
        else:
            value = keyring_get(entry)
        if value:
            redactor.add(value)  # every way in registers it (and the secrets inside a JSON credential)
        return value

    async def aget(self, entry: str, command: str = "") -> str | None:
        return await asyncio.to_thread(self.get, entry, command)
