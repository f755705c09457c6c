"""The inbox's rows at a full load (issue #14): an item nobody triaged holds no state of its
own, yet reads as its own default state, and a key acting on a large selection finds its rows
in one pass over the list (a search per item scanned the list once per item)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cminbox.core.clock import FrozenClock
from cminbox.core.models import Status
from cminbox.tui.row_index import RowIndex
from tests.factories import make_message
from tests.pilot_helpers import press
from tests.tui_fixtures import make_services, opened


async def test_untriaged_rows_hold_no_state_and_read_as_their_own(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    async with opened(services) as (pilot, screen):
        rows = screen.all_rows
        untouched = [r for r in rows if services.store.triage(r.message.id).rev == 0]
        assert untouched and all(r.triage is None for r in untouched)
        assert all(r.state.id == r.message.id and r.state.status == Status.NEW for r in untouched)
        target = screen.inbox_list.current
        assert target is not None and target.triage is None
        await press(pilot, "d")
        assert target.triage is not None and target.triage.status == Status.DONE
        assert services.store.triage(target.message.id).status == Status.DONE


async def test_a_key_on_a_large_selection_finds_its_rows_in_one_pass(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = make_services(tmp_path, clock)
    services.config.ui.auto_advance = False
    services.store.upsert_messages([make_message(n, at=clock.now - timedelta(minutes=n)) for n in range(1000, 1400)])
    async with opened(services) as (pilot, screen):
        lst = screen.inbox_list
        assert len(lst.rows) > 400
        chosen = {r.message.id for r in lst.rows}
        lst.selected = set(chosen)
        searches = [0]
        real_get = RowIndex.get

        def counted(index: RowIndex, mid: str) -> Any:
            searches[0] += 1
            return real_get(index, mid)

        monkeypatch.setattr(RowIndex, "get", counted)
        await press(pilot, "d")
        assert all(
            services.store.triage(mid).status == Status.DONE for mid in lst.selected or [r.message.id for r in lst.rows]
        )
        assert searches[0] <= 10, f"{searches[0]} searches of the list for one key on {len(lst.rows)} rows"
