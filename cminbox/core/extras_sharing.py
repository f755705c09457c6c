"""Messages' extras as little memory as they can take, learnt per channel (the load path of core/indexes.py).

Extras are channel-specific facts (core/models.Message.extra). Each is packed: its values in one
string instead of a dict (core/packed_extras.py; half the memory). Some repeat per author:
Mastodon's account id and acct. Keeping one packed copy per distinct content instead of one per
message saves tens of MB at 100k items. Other extras are per message (mail's Message-ID,
Discourse's post id): hashing them for a table that never finds them cost ~50 ms and kept ~8 MB
of keys for nothing at 100k mails (bench/side_by_side.py's store). So each channel's first
:data:`TRIAL` messages with extras are watched, then the channel settles on whether sharing pays.

Neither changes what a message says: a packed copy is equal to the dict it came from, and only
equal ones are swapped for one object (frozen messages, read-only extras).
"""

from __future__ import annotations

from collections.abc import Mapping

from cminbox.core.packed_extras import Packer

TRIAL = 1000  # messages with extras watched per channel before it settles
SHARED_EXTRAS = 20_000  # distinct extras kept for sharing over every channel (a few MB at most)


class _Channel:
    __slots__ = ("hits", "settled", "share", "table", "tries")

    def __init__(self) -> None:
        self.tries = 0
        self.hits = 0  # tries that found an equal one already kept
        self.table: dict[tuple[tuple[str, str], ...], Mapping[str, str]] = {}
        self.share = True
        self.settled = False


class ExtrasSharing:
    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = {}
        self._packer = Packer()
        self.kept = 0  # distinct extras in every channel's table

    def shared(self, channel: str, extra: dict[str, str]) -> Mapping[str, str]:
        """``extra`` packed, or an equal one kept before."""
        plan = self._channels.get(channel)
        if plan is None:
            plan = self._channels[channel] = _Channel()
        if not plan.share:
            return self._packer.pack(extra)
        plan.tries += 1
        same = tuple(extra.items())
        found = plan.table.get(same)
        if found is not None:
            plan.hits += 1
            return found
        packed = self._packer.pack(extra)
        if self.kept < SHARED_EXTRAS:
            plan.table[same] = packed
            self.kept += 1
        if not plan.settled and plan.tries >= TRIAL:
            self._settle(plan)
        return packed

    def _settle(self, plan: _Channel) -> None:
        # Extras keep being shared if a quarter of the trial found an equal one.
        plan.settled = True
        if plan.hits * 4 < plan.tries:
            plan.share = False
            self.kept -= len(plan.table)
            plan.table = {}  # its keys are per-message content: nothing will find them

    def sharing(self, channel: str) -> bool | None:
        """Whether ``channel`` still shares extras (None: no extras seen from it)."""
        plan = self._channels.get(channel)
        return None if plan is None else plan.share
