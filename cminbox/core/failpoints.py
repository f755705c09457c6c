"""Named crash points for the durability tests.

``CMINBOX_FAILPOINT=outbox.after_send`` makes the process kill itself with SIGKILL at
that point, exactly as a power cut or an OOM kill would. Unset (always, in normal use),
a failpoint is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal


def failpoint(name: str) -> None:
    if os.environ.get("CMINBOX_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
