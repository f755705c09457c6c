"""One copy of what messages' extras repeat, learnt per channel (the load path of core/indexes.py).

Extras are channel-specific facts (core/models.Message.extra). Some repeat per author: Mastodon's
account id and acct, mail's reply-to address and name. Keeping one dict per distinct content and
the author's own strings instead of a copy per message saves tens of MB at 100k items. Other
extras are per message (mail's Message-ID, Discourse's post id): hashing them for a table that
never finds them cost ~50 ms and kept ~8 MB of keys for nothing at 100k mails
(bench/side_by_side.py's store). So each channel's first :data:`TRIAL` messages with extras are
watched, then the channel settles on what pays: sharing whole dicts or not, and which names to
check against the author (mail: two lookups instead of comparing all six values).

Sharing never changes what a message says: only equal strings and equal dicts are swapped for
one object (frozen messages; the dict is the message's own until it is shared).
"""

from __future__ import annotations

from cminbox.core.models import Author

TRIAL = 1000  # messages with extras watched per channel before it settles
SHARED_EXTRAS = 20_000  # distinct extras kept for sharing over every channel (a few MB at most)


class _Channel:
    __slots__ = ("appearances", "author_matches", "author_names", "hits", "share", "table", "tries")

    def __init__(self) -> None:
        self.tries = 0
        self.hits = 0  # tries that found an equal dict already kept
        self.table: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
        self.appearances: dict[str, int] = {}  # during the trial: name -> messages that had it
        self.author_matches: dict[str, int] = {}  # name -> of them, how many said the author
        self.share = True
        self.author_names: tuple[str, ...] | None = None  # None: still in the trial


class ExtrasSharing:
    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = {}
        self.kept = 0  # distinct extras in every channel's table

    def shared(self, channel: str, extra: dict[str, str], person: Author) -> dict[str, str]:
        """``extra`` with the author's strings in it where equal, or an equal dict kept before."""
        plan = self._channels.get(channel)
        if plan is None:
            plan = self._channels[channel] = _Channel()
        handle, name = person.handle, person.display_name
        names = plan.author_names
        if names is None:
            self._watch(plan, extra, handle, name)
        else:
            for key in names:
                value = extra.get(key)
                if value is not None and value is not handle and value is not name:
                    if value == handle:
                        extra[key] = handle
                    elif name and value == name:
                        extra[key] = name
            if not plan.share:
                return extra
        plan.tries += 1
        same = tuple(extra.items())
        found = plan.table.get(same)
        if found is not None:
            plan.hits += 1
            return found
        if self.kept < SHARED_EXTRAS:
            plan.table[same] = extra
            self.kept += 1
        if names is None and plan.tries >= TRIAL:
            self._settle(plan)
        return extra

    def _watch(self, plan: _Channel, extra: dict[str, str], handle: str, name: str) -> None:
        """The trial: every value is checked against the author, and counted."""
        seen, matched = plan.appearances, plan.author_matches
        for key, value in extra.items():
            seen[key] = seen.get(key, 0) + 1
            if value == handle:
                extra[key] = handle
            elif name and value == name:
                extra[key] = name
            else:
                continue
            matched[key] = matched.get(key, 0) + 1

    def _settle(self, plan: _Channel) -> None:
        # A name that said the author in at least a quarter of the messages that had it keeps
        # being checked; whole dicts keep being shared if a quarter of the trial found one.
        plan.author_names = tuple(k for k, n in plan.author_matches.items() if n * 4 >= plan.appearances[k])
        plan.appearances, plan.author_matches = {}, {}
        if plan.hits * 4 < plan.tries:
            plan.share = False
            self.kept -= len(plan.table)
            plan.table = {}  # its keys are per-message content: nothing will find them

    def sharing(self, channel: str) -> bool | None:
        """Whether ``channel`` still shares whole extras (None: no extras seen from it)."""
        plan = self._channels.get(channel)
        return None if plan is None else plan.share
