"""Snapshots of the macro picker (`m`, over a 40-item selection) and of the question a macro
asks before taking items someone is working on. Deterministic as tests/test_tui_snapshots.py.
Regenerate with `pytest --snapshot-update tests/test_tui_macro_snapshots.py`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cminbox.core.clock import FrozenClock
from cminbox.core.triage import Assign
from tests.tui_fixtures import make_app, pressing
from tests.tui_macro_fixtures import macro_services

pytestmark = pytest.mark.snapshot
BURST_SELECTED = ("slash", *"lumendown", "enter", "V")


def test_macro_picker(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(macro_services(tmp_path, clock))
    assert snap_compare(app, run_before=pressing(*BURST_SELECTED, "m"), terminal_size=(120, 40))


def test_macro_picker_80x24(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    app = make_app(macro_services(tmp_path, clock))
    assert snap_compare(app, run_before=pressing(*BURST_SELECTED, "m"), terminal_size=(80, 24))


def test_macro_confirm_when_items_are_held(snap_compare: Any, tmp_path: Path, clock: FrozenClock) -> None:
    services = macro_services(tmp_path, clock)
    services.store.act(["masto:500", "masto:501"], Assign("bo"), actor="bo")
    services.store.set_draft("masto:502", "half a reply")
    app = make_app(services)
    assert snap_compare(app, run_before=pressing(*BURST_SELECTED, "O"), terminal_size=(120, 40))
