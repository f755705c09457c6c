"""The terminal writer (tui/terminal_writer.py): once a write fails (the terminal is gone) it
drops what follows instead of dying, so the UI thread never waits on it for good, and it says
so once. The end to end case (a pty closed under the real app) is in test_demo_cleanup.py."""

from __future__ import annotations

import errno
import io
import threading

import pytest
from textual.drivers import linux_driver
from textual.drivers._writer_thread import MAX_QUEUED_WRITES, WriterThread

from cminbox.tui import terminal_writer
from cminbox.tui.terminal_writer import TerminalWriter


class HangsUp(io.StringIO):
    """A terminal that takes ``good`` writes, then fails every one as a hung-up tty does."""

    def __init__(self, good: int) -> None:
        super().__init__()
        self.good = good

    def write(self, text: str) -> int:
        if self.good <= 0:
            raise OSError(errno.EIO, "Input/output error")
        self.good -= 1
        return super().write(text)


def _writes(writer: WriterThread, count: int) -> threading.Thread:
    frames = threading.Thread(target=lambda: [writer.write(f"frame {n}\n") for n in range(count)], daemon=True)
    frames.start()
    return frames


def test_frames_after_the_terminal_is_gone_are_dropped_and_said_once() -> None:
    said: list[str] = []
    terminal_writer.on_gone(lambda: said.append("gone"))
    try:
        out = HangsUp(good=3)
        writer = TerminalWriter(out)  # type: ignore[arg-type]
        writer.start()
        frames = _writes(writer, MAX_QUEUED_WRITES * 10)  # far more than the queue holds
        frames.join(timeout=10)
        assert not frames.is_alive(), "the UI thread would wait for good on a terminal that is gone"
        writer.stop()  # returns: the writer is still there to take the end mark
        assert not writer.is_alive() and writer.gone
        assert said == ["gone"]
        assert out.getvalue() == "frame 0\nframe 1\nframe 2\n"
    finally:
        terminal_writer.on_gone(None)


def test_a_failing_hook_does_not_stop_the_writer() -> None:
    def fails() -> None:
        raise RuntimeError("the loop is closed")

    terminal_writer.on_gone(fails)
    try:
        writer = TerminalWriter(HangsUp(good=0))  # type: ignore[arg-type]
        writer.start()
        frames = _writes(writer, MAX_QUEUED_WRITES * 3)
        frames.join(timeout=10)
        assert not frames.is_alive()
        writer.stop()
        assert not writer.is_alive()
    finally:
        terminal_writer.on_gone(None)


def test_a_terminal_that_works_gets_every_frame_in_order() -> None:
    out = io.StringIO()
    writer = TerminalWriter(out)  # type: ignore[arg-type]
    writer.start()
    _writes(writer, 500).join(timeout=10)
    writer.stop()
    assert out.getvalue() == "".join(f"frame {n}\n" for n in range(500)) and not writer.gone


def test_textual_s_linux_driver_makes_its_writer_from_the_installed_class(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pin's contract: the driver looks the class up by this module-level name."""
    assert linux_driver.WriterThread is WriterThread or linux_driver.WriterThread is TerminalWriter  # type: ignore[attr-defined]
    monkeypatch.setattr(linux_driver, "WriterThread", WriterThread)
    terminal_writer.install()
    assert linux_driver.WriterThread is TerminalWriter  # type: ignore[attr-defined]
    source = linux_driver.LinuxDriver.start_application_mode.__code__.co_names
    assert "WriterThread" in source


class Stalls(io.StringIO):
    """A terminal that takes nothing until ``go`` is set (a stalled link)."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()

    def write(self, text: str) -> int:
        self.go.wait(10)
        return super().write(text)


def test_behind_and_the_caught_up_hook() -> None:
    """Behind once BEHIND writes wait; the hook fires once they are written, once."""
    term = Stalls()
    writer = TerminalWriter(term)
    writer.start()
    fired = threading.Event()
    calls: list[int] = []
    for n in range(terminal_writer.BEHIND + 1):  # one is taken by the writer and held there
        writer.write(f"frame {n}\n")
    assert writer.behind()
    writer.when_drained(lambda: (calls.append(1), fired.set()))
    assert not fired.is_set()
    term.go.set()
    assert fired.wait(10) and not writer.behind()
    writer.stop()
    assert calls == [1]
    writer.when_drained(lambda: calls.append(2))  # nothing waits: at once
    assert calls == [1, 2]


def test_a_writer_stopped_with_frames_queued_still_says_it_caught_up() -> None:
    """App.suspend ($EDITOR) stops the writer with frames still queued: the hook that the app's
    repaint waits for fired only when the queue ran empty, which the stop's own mark prevents;
    the repaint was never asked again (review of 2026-12-02)."""
    term = Stalls()
    writer = TerminalWriter(term)
    for n in range(3):
        writer.write(f"frame {n}\n")
    fired = threading.Event()
    writer.when_drained(fired.set)
    writer.start()
    stopping = threading.Thread(target=writer.stop, daemon=True)
    stopping.start()
    term.go.set()
    stopping.join(10)
    assert fired.wait(10)
