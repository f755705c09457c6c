"""The garbage collector's pauses (core/gc_pause.py): start-up and loading make long-lived
objects without collections (issue #14), and the collector always runs again after."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cminbox import cli
from cminbox.core import gc_pause


@pytest.fixture(autouse=True)
def _collector_back() -> Iterator[None]:
    gc.enable()
    yield
    gc_pause.end_start_up()
    while gc_pause.holding():
        gc_pause.release(freeze=False)
    gc.unfreeze()  # what a test froze does not stay out of reach for the rest of the run
    gc.enable()


def test_pauses_nest_and_the_last_one_ends_the_pause() -> None:
    with gc_pause.paused():
        assert not gc.isenabled()
        with gc_pause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


def test_a_pause_freezes_what_was_made_meanwhile() -> None:
    before = gc.get_freeze_count()
    with gc_pause.paused():
        made = [[i] for i in range(1000)]
    frozen = gc.get_freeze_count()
    assert frozen >= before + len(made)
    with gc_pause.paused(freeze=False):
        more = [[i] for i in range(1000)]
    assert gc.get_freeze_count() == frozen and more  # left to the collector


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with gc_pause.paused():
        pass
    assert not gc.isenabled()


def test_a_failure_inside_a_pause_ends_it() -> None:
    with pytest.raises(RuntimeError), gc_pause.paused():
        raise RuntimeError("a damaged part")
    assert gc.isenabled()


def test_pauses_from_several_threads_end_when_the_last_one_does() -> None:
    inside, leave = threading.Event(), threading.Event()

    def loader() -> None:
        with gc_pause.paused():
            inside.set()
            leave.wait(5)

    worker = threading.Thread(target=loader)
    gc_pause.hold_start_up()
    worker.start()
    inside.wait(5)
    gc_pause.end_start_up()  # the first rows are drawn while the loader still reads a part
    assert not gc.isenabled()
    leave.set()
    worker.join(5)
    assert gc.isenabled() and gc_pause.holding() == 0


def test_the_start_up_pause_ends_once() -> None:
    gc_pause.hold_start_up()
    gc_pause.hold_start_up()  # a second start (the demo re-entering main) holds nothing more
    with gc_pause.paused():
        gc_pause.end_start_up()
        gc_pause.end_start_up()  # a later caller must not end the loader's pause
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_command_runs_with_the_collector_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`cminbox list` ends the start-up pause once parsed: its own work (a big export, a
    migration) is collected as usual, and the process is left as it was found."""
    seen: list[bool] = []
    real = cli.build_parser

    def parser(argv: object) -> object:
        built = real(argv)  # type: ignore[arg-type]
        seen.append(gc.isenabled())  # while the modules are imported: paused
        return built

    config = tmp_path / "config.toml"
    config.write_text("")
    cli.build_parser = parser  # type: ignore[assignment]
    try:
        code = cli.main(["--config", str(config), "--data-dir", str(tmp_path / "data"), "config", "path"])
    finally:
        cli.build_parser = real
    assert code == 0 and seen == [False]
    assert gc.isenabled() and gc_pause.holding() == 0
