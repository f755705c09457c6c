"""`cminbox list` rows: fixed columns that hold for wide and combined characters too."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest
from wcwidth import wcswidth

from cminbox.commands.render import row
from cminbox.core.models import Author, TriageState
from cminbox.core.text import fit_cells
from tests.factories import WIDTH_TRAPS, make_message

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
TEXTS = [*WIDTH_TRAPS, "这是一个很长的中文句子" * 6, "plain ascii " * 20]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("width", [120, 160])
def test_a_row_never_overflows_its_width_as_the_terminal_counts(text: str, width: int) -> None:
    msg = msgspec.structs.replace(
        make_message(1, text=text * 4), author=Author(id="a", handle="@用户名很长很长的名字@example.social")
    )
    line = row(msg, TriageState(id=msg.id, tags=("bug",)), NOW, width)
    assert wcswidth(line) <= width, line  # nothing wraps onto a second line


@pytest.mark.parametrize("text", [*TEXTS, "@用户名很长很长的名字@example.social", "", "ab"])
@pytest.mark.parametrize("width", [1, 5, 18])
def test_a_fitted_column_is_exactly_its_width(text: str, width: int) -> None:
    cell = fit_cells(text, width)
    assert wcswidth(cell) == width, cell  # the columns after it start at the same cell on every row


@pytest.mark.parametrize(
    ("tags", "assignee", "tail"),
    [(("outage",), None, " [outage]"), (("a", "b"), "dana", " [a,b] →dana"), ((), "dana", " →dana"), ((), None, "")],
)
def test_tags_and_assignee_stand_apart_from_the_text(tags: tuple[str, ...], assignee: str | None, tail: str) -> None:
    """They were glued to it: "what's going on #LumenDown[outage]" (new-user trial of 2026-12-01)."""
    msg = make_message(1, text="what's going on #LumenDown")
    line = row(msg, TriageState(id=msg.id, tags=tags, assignee=assignee), NOW, 160)
    assert line.endswith("what's going on #LumenDown" + tail), line
