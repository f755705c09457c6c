"""Connecting to the team's PostgreSQL: the driver, the conninfo, the password, the pool.

psycopg is an optional extra (``cminbox[postgresql]``): most people run cminbox alone on
the TinyDB store and should not install a database driver with native code for it. Every
way into this backend goes through :func:`require_psycopg`, whose error says exactly what
to install.

The password never lives in the config: it comes from ``password_command``, from the
keyring entry :data:`KEYRING_ENTRY` (``cminbox login store``), or, when neither has one,
from libpq itself (``PGPASSFILE``/``~/.pgpass``, or a client certificate). Whatever is
found is registered with the redactor before it is used.
"""

from __future__ import annotations

import logging
import os
import re
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import msgspec

from cminbox.core.errors import CminboxError, StoreUnavailable
from cminbox.core.redact import redactor

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

    from cminbox.core.config import StoreConfig
    from cminbox.core.secrets import Secrets

KEYRING_ENTRY = "store:postgresql"  # a colon never appears in a channel name, so no entry collides
INSTALL_HINT = (
    "Install the PostgreSQL extra: `pip install 'cminbox[postgresql]'` "
    "(with pipx: `pipx inject cminbox 'psycopg[binary]' psycopg-pool`)."
)
POOL_MAX = 4
# How long the pool keeps retrying a lost connection in the background, backing off (1, 2, 4 s
# ...), before it gives up that round: the next action then starts a fresh round at once. An
# endless round would back off without bound, so after an hour-long outage the next try could
# come an hour after the server is back, with every action refused meanwhile.
RECONNECT_ROUND = 5.0
FIRST_WAIT = 1.0  # seconds the pool's first connection gets before cminbox asks why it is late

# psycopg_pool logs every failed connection as a warning; with no handler of ours above it,
# Python's last-resort handler printed them over the command's own message. What went wrong is
# said by the error raised here; the CLI's log handler is on "cminbox" only.
logging.getLogger("psycopg").addHandler(logging.NullHandler())


class PostgresError(CminboxError):
    """The PostgreSQL store cannot do what was asked; the message says why, the hint what to do."""


class PsycopgMissingError(PostgresError):
    pass


class PostgresUnreachable(PostgresError, StoreUnavailable):
    """The server cannot be reached, or dropped the connection mid-action."""


def require_psycopg() -> tuple[ModuleType, ModuleType]:
    """psycopg and psycopg_pool, or an error that says how to install them."""
    try:
        import psycopg
        import psycopg_pool
    except ImportError as exc:
        raise PsycopgMissingError(
            f'[store] backend = "postgresql" needs the psycopg driver, which is not installed ({exc.name} missing).',
            INSTALL_HINT,
        ) from None
    return psycopg, psycopg_pool


def psycopg_status() -> tuple[bool, str]:
    """(installed, detail) for `cminbox doctor`."""
    try:
        psycopg, pool = require_psycopg()
    except PsycopgMissingError as exc:
        return False, str(exc)
    return True, f"psycopg {psycopg.__version__}, psycopg-pool {pool.__version__}"


_KV_PASSWORD = re.compile(r"(?:^|\s)password\s*=", re.IGNORECASE)


def dsn_problem(dsn: str) -> str | None:
    """Why libpq (or, without psycopg installed, the URL parser) cannot read ``dsn``; None when
    it can. The DSN's own text is left out of the reason: it may hold a password.

    A malformed one was an "internal error (ValueError: Invalid IPv6 URL)" at every command,
    and one libpq refuses passed `config check` (fault trial of 2026-12-01)."""
    try:
        if dsn.startswith(("postgresql://", "postgres://")):
            urlsplit(dsn).port  # noqa: B018 - raises on a malformed host or port
    except ValueError as exc:
        return str(exc)
    try:
        import psycopg.conninfo
    except ImportError:  # the extra is not installed: checked when it is
        return None
    try:
        psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        return _QUOTED.sub('"…"', " ".join(str(exc).split()))
    return None


_QUOTED = re.compile(r'"[^"]*"')


def dsn_has_password(dsn: str) -> bool:
    """True when the DSN carries a password (URL userinfo, ``?password=``, or ``password=``).

    Parsed without psycopg, so `config check` works on an install without the extra."""
    if dsn.startswith(("postgresql://", "postgres://")):
        try:
            parts = urlsplit(dsn)
        except ValueError:  # malformed (an unclosed IPv6 host): dsn_problem says so
            return ":" in dsn.partition("://")[2].rpartition("@")[0]
        netloc_users = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
        # A multi-host URL lists several host:port pairs after one userinfo.
        if ":" in netloc_users:
            return True
        return "password" in {k.lower() for k in parse_qs(parts.query)}
    return bool(_KV_PASSWORD.search(dsn))


class Target(msgspec.Struct, frozen=True):
    """What to connect to: the conninfo (no password in it) and the password found, if any."""

    conninfo: str
    password: str | None

    def __repr__(self) -> str:
        # Never the password: a repr reaches tracebacks (with their locals) and logs.
        hidden = "<hidden>" if self.password is not None else None
        return f"Target(conninfo={self.conninfo!r}, password={hidden})"

    def describe(self) -> str:
        """user@host:port/dbname, for messages (never the password)."""
        psycopg, _ = require_psycopg()
        info = psycopg.conninfo.conninfo_to_dict(self.conninfo)
        host = info.get("host") or "local socket"
        port = f":{info['port']}" if info.get("port") else ""
        user = f"{info['user']}@" if info.get("user") else ""
        return f"{user}{host}{port}/{info.get('dbname', '')}"


def store_password(cfg: StoreConfig, secrets_: Secrets | None) -> str | None:
    """The password from password_command, else the keyring entry; None leaves it to libpq."""
    from cminbox.core.secrets import SecretError, keyring_status, run_token_command

    if cfg.password_command:
        return run_token_command(cfg.password_command, "store", key="password_command")
    if secrets_ is not None and KEYRING_ENTRY in secrets_.overrides:
        return secrets_.overrides[KEYRING_ENTRY]
    if not keyring_status().usable:
        return None  # no keyring on this host: libpq's .pgpass or a certificate may still do
    try:
        return secrets_.get(KEYRING_ENTRY) if secrets_ is not None else None
    except SecretError:
        return None


def target(cfg: StoreConfig, secrets_: Secrets | None = None) -> Target:
    """The conninfo of ``[store]``: the DSN plus the TLS and client keys passed through."""
    psycopg, _ = require_psycopg()
    extra: dict[str, Any] = {"connect_timeout": cfg.connect_timeout, "application_name": cfg.application_name}
    if cfg.sslmode:
        extra["sslmode"] = cfg.sslmode
    for key in ("sslrootcert", "sslcert", "sslkey"):
        value = getattr(cfg, key)
        if value:
            extra[key] = os.path.expanduser(value)
    try:
        conninfo = psycopg.conninfo.make_conninfo(cfg.dsn, **extra)
    except psycopg.ProgrammingError as exc:
        raise PostgresError(
            f"[store] dsn cannot be parsed: {exc}", "Write it as postgresql://USER@HOST/DBNAME."
        ) from None
    password = store_password(cfg, secrets_)
    if password:
        redactor.add(password)
    return Target(conninfo, password)


# What the server (or libpq) says when the connection settings are wrong, not the network: no
# retry helps, so it is said at once with what to change, not as "unreachable" after 10 s
# (review of 2026-12-01). SQLSTATE where the server sends one, libpq's words where it does not.
_REFUSALS: tuple[tuple[str, str, str], ...] = (
    ("28P01", "password authentication failed", "the server refused the password"),
    ("", "no password supplied", "the server wants a password and none was given"),
    ("3D000", "does not exist", "the database or role does not exist"),
    ("28000", "no pg_hba.conf entry", "the server does not let this user in from here (pg_hba.conf)"),
)
REFUSED_HINT = (
    "Check [store] dsn (user, host, database) and the password: password_command in [store], or "
    "`cminbox login store` for the keyring; `cminbox doctor` checks the connection."
)


def refused(exc: BaseException, where: str) -> PostgresError | None:
    """The error for a connection the server refused for its settings, or None (down, slow)."""
    state = getattr(exc, "sqlstate", None) or ""
    text = str(exc)
    for code, words, said in _REFUSALS:
        if (code and state == code) or words in text:
            detail = redactor.redact(text.strip().splitlines()[0] if text.strip() else type(exc).__name__)
            return PostgresError(
                f"the PostgreSQL store {where} refused the connection: {said} ({detail}).", REFUSED_HINT
            )
    return None


def unreachable(exc: BaseException, where: str) -> PostgresUnreachable:
    """The error shown when the server cannot be reached or dropped the connection mid-action."""
    detail = redactor.redact(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    return PostgresUnreachable(
        f"the PostgreSQL store {where} is unreachable ({detail}); nothing was changed.",
        "Try again when the server is back (cminbox reconnects by itself); `cminbox doctor` checks the connection.",
    )


def open_pool(tgt: Target, *, min_size: int = 1, max_size: int = POOL_MAX) -> ConnectionPool:
    """A pool whose connections are checked before use, so a server restart costs one retry,
    not an error: dead connections are dropped and replaced on the way out of the pool."""
    psycopg, psycopg_pool = require_psycopg()
    kwargs: dict[str, Any] = {"autocommit": False}
    if tgt.password:
        kwargs["password"] = tgt.password
    # While the server is down an action waits at most connect_timeout for a connection, then
    # is refused with a message; the pool retries in the background meanwhile, in rounds of
    # RECONNECT_ROUND, and an action after a round gave up starts the next one at once.
    wait = float(psycopg.conninfo.conninfo_to_dict(tgt.conninfo).get("connect_timeout", 10))

    def opened(timeout: float) -> ConnectionPool:
        """A pool open with its first connection made, or PoolTimeout (the pool closed itself:
        psycopg_pool's open closes a pool whose wait ran out)."""
        pool: ConnectionPool = psycopg_pool.ConnectionPool(
            tgt.conninfo,
            min_size=min_size,
            max_size=max_size,
            kwargs=kwargs,
            check=psycopg_pool.ConnectionPool.check_connection,
            timeout=wait,
            reconnect_timeout=RECONNECT_ROUND,
            open=False,
            name="cminbox",
        )
        pool.open(wait=True, timeout=timeout)
        return pool

    # The pool hides why its connections fail behind its timeout. Its first connection gets a
    # short wait; late, one connection of our own (within what is left of connect_timeout) says
    # why: settings the server refuses are said at once, a server that is down as unreachable,
    # and a slow one gets a new pool with the rest of the time. (Waiting on a connection from
    # the same pool instead made it grow a second one per store: a test that opens many stores
    # ran the server out of connections.)
    where = tgt.describe()
    first = min(wait, FIRST_WAIT)
    try:
        return opened(first)
    except psycopg_pool.PoolTimeout:
        pass
    left = max(2, round(wait - first))  # libpq's connect_timeout: whole seconds, 2 at least
    try:
        psycopg.connect(tgt.conninfo, **{**kwargs, "connect_timeout": left}).close()
    except psycopg.Error as cause:
        raise refused(cause, where) or unreachable(cause, where) from None
    try:
        return opened(max(FIRST_WAIT, wait - first))
    except psycopg_pool.PoolTimeout as exc:
        raise unreachable(exc, where) from None
