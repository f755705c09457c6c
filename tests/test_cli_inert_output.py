"""The command line prints no control character from stored or fetched text
(commands/inert_output.py).

Regression (hostile-data trial of 2026-12-01): `show` printed a reply id a server had answered
with OSC 52 and ESC[2J in it, and `show`, `people`, `outbox list` and the CSV export printed
imported triage fields as they were.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cminbox.commands.inert_output import InertStream
from cminbox.core.store import Store
from cminbox.core.text import UNSAFE_OUTPUT
from cminbox.core.triage import AddTags, Assign
from tests.cli_in_process import cli
from tests.factories import make_message

HOSTILE = "ev\x1b]52;c;SU1QT1JU\x07\x1b[2J\x9b31m\u202eil"


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["show", "masto:1"], "ev]52;c;SU1QT1JU[2J31mil"),
        (["list"], "[tevil] →evil"),  # (list's own cleaning drops whole sequences)
        (["export", "--format", "csv"], "ev]52;c;SU1QT1JU[2J31mil"),
    ],
)
def test_hostile_stored_fields_are_printed_inert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], shown: str
) -> None:
    store = Store(tmp_path / "data")
    store.upsert_messages([make_message(1)])
    store.act(["masto:1"], AddTags((f"t{HOSTILE}",)), actor="ana")
    store.act(["masto:1"], Assign(HOSTILE), actor=f"act{HOSTILE}")
    store.close()
    code, out = cli(tmp_path, capsys, *args)
    assert code == 0, out
    assert shown in out  # shown as the text it is
    assert not UNSAFE_OUTPUT.search(out), out


@given(st.text())
def test_the_stream_writes_all_but_the_unsafe(text: str) -> None:
    sink = io.StringIO()
    InertStream(sink).write(text)
    assert sink.getvalue() == UNSAFE_OUTPUT.sub("", text)
    assert "\n" not in text or "\n" in sink.getvalue()
