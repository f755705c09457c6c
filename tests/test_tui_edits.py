"""An item its author edited on the channel shows the new text in the open inbox at once (the
change check, or NOTIFY on PostgreSQL), without a reload; the preview follows."""

from __future__ import annotations

from pathlib import Path

import msgspec

from cminbox.core.clock import FrozenClock
from cminbox.core.store import Store
from cminbox.tui.panes import Preview
from tests.conftest import T0
from tests.test_tui_presence import until
from tests.test_tui_replying import SAM, SIZE, at
from tests.tui_fixtures import make_app, make_services


async def test_an_edited_item_shows_its_new_text_without_a_reload(tmp_path: Path) -> None:
    services = make_services(tmp_path, FrozenClock(T0))
    app = make_app(services)
    async with app.run_test(size=SIZE) as pilot:
        inbox = await at(pilot, SAM)
        other = Store(tmp_path / "data")  # the polling instance, in another process in real life
        try:
            item = other.get_message(SAM)
            assert item is not None
            other.upsert_messages([msgspec.structs.replace(item, text="EDIT: charged three times now")])
        finally:
            other.close()
        rows = inbox.inbox_list
        await until(pilot, lambda: rows.rows[rows.index[SAM]].message.text.startswith("EDIT"), "the row's new text")
        await until(pilot, lambda: "EDIT: charged three times" in str(inbox.query_one(Preview).render()), "preview")
