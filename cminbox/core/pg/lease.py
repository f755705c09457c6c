"""The single-poller lease: exactly one instance of the team polls channels and sends.

A row in ``leases`` (name, holder, expires_at), taken when free or expired, renewed by a
heartbeat well inside its time-to-live. Expiry is computed by the server's clock
(``clock_timestamp()``), so hosts whose clocks disagree still agree on who holds it.

Why a row and not an advisory lock tied to a connection: an advisory lock lives as long
as the server believes its session does, and a host that vanishes without closing its
TCP connection (power loss, a network split) keeps it until the server's keepalive gives
up, minutes later and outside our control. A row expires when we say, names its holder
for `cminbox doctor` and the status line, and works through transaction-pooling proxies
(PgBouncer), where session state such as advisory locks does not survive.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

from psycopg import Connection

from cminbox.core.errors import CminboxError
from cminbox.core.pg.db import GOODBYE_WAIT, Database
from cminbox.core.random_ids import token_hex
from cminbox.core.sending_api import LeaseHolder

log = logging.getLogger(__name__)
POLLER = "poller"
TTL_SECONDS = 15.0  # a dead holder is replaced within this long


class PgLease:
    """A :class:`~cminbox.core.sending_api.PollerLease` held in the database."""

    def __init__(self, db: Database, holder: str, *, name: str = POLLER, ttl: float = TTL_SECONDS) -> None:
        self.db = db
        self.me = holder
        self.name = name
        self.ttl = ttl
        self._token = token_hex(8)
        self._held = False
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def _take(self) -> bool:
        def work(conn: Connection[Any]) -> bool:
            row = conn.execute(
                "INSERT INTO leases AS l (name, holder, token, acquired_at, expires_at) VALUES (%(name)s, %(me)s,"
                " %(token)s, clock_timestamp(), clock_timestamp() + make_interval(secs => %(ttl)s))"
                " ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, token = EXCLUDED.token,"
                " expires_at = EXCLUDED.expires_at,"
                " acquired_at = CASE WHEN l.token = EXCLUDED.token THEN l.acquired_at ELSE EXCLUDED.acquired_at END"
                " WHERE l.token = EXCLUDED.token OR l.expires_at < clock_timestamp()"
                " RETURNING holder",
                {"name": self.name, "me": self.me, "token": self._token, "ttl": self.ttl},
            ).fetchone()
            return row is not None

        return self.db.run(work, "the poller lease")

    def acquire(self) -> bool:
        """Take the lease if it is free or expired (or renew it if held); start the heartbeat."""
        try:
            self._held = self._take()
        except CminboxError as exc:
            log.warning("poller lease not taken: %s", exc)
            self._held = False
        if self._held and self._heartbeat is None:
            self._stop.clear()
            self._heartbeat = threading.Thread(target=self._beat, name="cminbox-lease", daemon=True)
            self._heartbeat.start()
        return self._held

    def renew(self) -> bool:
        """Extend the lease; False (and no longer held) when it was released or another instance
        took it over (this handle's token is no longer on the row)."""
        if not self._held:
            return False

        def work(conn: Connection[Any]) -> bool:
            row = conn.execute(
                "UPDATE leases SET expires_at = clock_timestamp() + make_interval(secs => %s)"
                " WHERE name = %s AND token = %s RETURNING holder",
                (self.ttl, self.name, self._token),
            ).fetchone()
            return row is not None

        try:
            self._held = self.db.run(work, "the poller lease renewal")
        except CminboxError as exc:
            log.warning("poller lease not renewed: %s", exc)
            self._held = False
        return self._held

    @property
    def held(self) -> bool:
        return self._held

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            if not self.renew():
                log.warning("lost the poller lease; another instance polls now")

    def release(self) -> None:
        self._stop.set()
        if self._heartbeat is not None and self._heartbeat is not threading.current_thread():
            # A renewal waiting for a connection to a server gone would hold this for the
            # pool's timeout; the beat stops after it by itself (_stop is set).
            self._heartbeat.join(GOODBYE_WAIT)
        self._heartbeat = None
        if self._held:
            self._held = False
            try:
                self.db.run(
                    lambda c: c.execute("DELETE FROM leases WHERE name = %s AND token = %s", (self.name, self._token)),
                    "the lease release",
                    wait=GOODBYE_WAIT,  # it expires by itself
                )
            except CminboxError as exc:  # it expires by itself
                log.warning("poller lease not released: %s", exc)

    def holder(self) -> LeaseHolder | None:
        """The instance holding the lease now (None when free or expired)."""
        row = self.db.read(
            lambda c: c.execute(
                "SELECT holder, extract(epoch FROM expires_at - clock_timestamp())::float8 FROM leases"
                " WHERE name = %s AND expires_at >= clock_timestamp()",
                (self.name,),
            ).fetchone()
        )
        if not row:
            return None
        host, _, rest = str(row[0]).partition(":")
        pid = rest.partition(":")[0]
        return LeaseHolder(
            instance=str(row[0]),
            pid=int(pid) if host == socket.gethostname() and pid.isdigit() else 0,
            expires_in=float(row[1]),
        )
