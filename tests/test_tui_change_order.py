"""Teammates' changes reach the inbox through two readers that may finish out of order: the
change check and the author card's catch-up (tui/store_sync.py) each read the event log, then
the changed items' states, and post what they read. A state read before a teammate's change
could land after the one read after it and take the change back, with nothing left in the log
to bring it again (the team demo's test saw a "done" by the second teammate turn back into
"new"). Each store write raises ``rev``: the inbox keeps the newer revision."""

from __future__ import annotations

from pathlib import Path

import msgspec

from cminbox.core.clock import FrozenClock
from cminbox.core.models import Status
from cminbox.tui.store_sync import StoreChanged
from cminbox.tui.store_worker import Changes
from tests.conftest import T0
from tests.tui_fixtures import make_services, opened


async def test_a_state_read_before_a_teammates_change_does_not_take_it_back(tmp_path: Path) -> None:
    services = make_services(tmp_path, FrozenClock(T0))
    async with opened(services) as (pilot, screen):
        rows = screen.inbox_list
        row = rows.rows[0]
        mid, base = row.message.id, row.state
        done = msgspec.structs.replace(base, status=Status.DONE, rev=base.rev + 2)  # the teammate's
        before = msgspec.structs.replace(base, rev=base.rev + 1)  # read before it, delivered after it
        for state in (done, before):
            screen.post_message(StoreChanged(Changes({mid}, False, {mid: state}, {mid: row.message})))
            await pilot.pause()
        assert rows.rows[rows.index[mid]].state == done
        assert screen.counts.status[Status.DONE] == 1
        # In order, each newer state is taken as it comes.
        reopened = msgspec.structs.replace(done, status=Status.OPEN, rev=done.rev + 1)
        screen.post_message(StoreChanged(Changes({mid}, False, {mid: reopened}, {mid: row.message})))
        await pilot.pause()
        assert rows.rows[rows.index[mid]].state == reopened
