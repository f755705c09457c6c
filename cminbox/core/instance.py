"""Who this process is, for the records other instances read: host, pid and a random part.

Defined once: the event log stamps every event with it, the outbox marks the items this
process claimed with it, and the poller lease says which instance holds it. The random part
keeps two processes apart when a pid is reused (a container restarted on the same host).
"""

from __future__ import annotations

import os
import socket

from cminbox.core.random_ids import token_hex


def new_instance_id() -> str:
    """``host:pid:random``; the pid is the second field (the outbox reads it to spot a dead claimant)."""
    return f"{socket.gethostname()}:{os.getpid()}:{token_hex(3)}"


INSTANCE_ID = new_instance_id()
