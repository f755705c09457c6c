"""No control character reaches the terminal, whatever the store holds (tui/inert_lines.py).

Regression (hostile-data trial of 2026-12-01): imported triage fields, a reply id a server
answered and a Matrix sender in a live thread were drawn as they came: OSC 52 wrote the
clipboard, ESC[2J cleared the screen, and a Hangul filler (0 cells to Rich, 2 to tmux) pushed
a row's age column off the line.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.segment import Segment
from textual.color import Color

from cminbox.core.clock import FrozenClock
from cminbox.core.models import Note
from cminbox.core.triage import AddNote, AddTags, Assign
from cminbox.tui.inbox_list import InboxList
from cminbox.tui.inert_lines import UNSAFE, InertLines
from cminbox.tui.panes import Preview
from tests.tui_fixtures import make_app, make_services, settle

HOSTILE = "ev\x1b]52;c;SU1QT1JU\x07\x1b[2J\x9b31m\u202e\u3164il"


async def test_hostile_triage_fields_are_drawn_inert(tmp_path: Path, clock: FrozenClock) -> None:
    services = make_services(tmp_path, clock)
    store = services.store
    first = store.query(limit=1)[0][0].id
    store.act([first], AddTags((f"t{HOSTILE}",)), actor="ana")
    store.act([first], Assign(HOSTILE), actor="ana")
    note = Note(id="n1", author=f"mallory{HOSTILE}", at=datetime(2026, 11, 1, tzinfo=clock.now.tzinfo), text=HOSTILE)
    store.act([first], AddNote(note), actor=f"act{HOSTILE}")
    app = make_app(services)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        listed = app.screen.query_one(InboxList)
        listed.cursor = listed.index[first]
        app.screen.show_preview()  # type: ignore[attr-defined]
        preview = app.screen.query_one(Preview)

        def lines() -> list[str]:
            return [s.text for w in (listed, preview) for s in w.render_lines(w.region.reset_offset)]

        for _ in range(100):  # the preview's data is read on a worker
            await pilot.pause(0.02)
            if any("mallory" in line for line in lines()):
                break
        drawn = lines()
        assert any("#tev]52;c;SU1QT1JU" in line for line in drawn)  # what is left of it shows, as text
        assert any("mallory" in line for line in drawn)
        assert not [line for line in drawn if UNSAFE.search(line)]


@given(st.lists(st.text(), max_size=5))
def test_the_filter_keeps_every_line_s_width_and_leaves_nothing_unsafe(texts: list[str]) -> None:
    segments = [Segment(text) for text in texts]
    out = InertLines().apply(segments, Color(0, 0, 0))
    assert sum(cell_len(s.text) for s in out) == sum(cell_len(s.text) for s in segments)
    assert not any(UNSAFE.search(s.text) for s in out)
    if not any(UNSAFE.search(t) for t in texts):
        assert out is segments  # a clean line is passed through as it is
