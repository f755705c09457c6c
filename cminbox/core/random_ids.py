"""Random ids (notes, outbox items, action groups, people, temp files, instances).

``secrets.token_hex`` is ``os.urandom(n).hex()``; importing ``secrets`` also loads ``hmac``,
``hashlib`` and OpenSSL (~1.2 ms), which the inbox's first frame has no use for (issue #14's
import budget). Same source of randomness: the kernel's CSPRNG.
"""

from __future__ import annotations

import os


def token_hex(nbytes: int) -> str:
    """``nbytes`` random bytes as ``2 * nbytes`` lowercase hex digits."""
    return os.urandom(nbytes).hex()
