"""Faults of the machine, not of cminbox: each is one line naming the file and what to do,
never "internal error ... please report it"."""

from __future__ import annotations

import errno
import io
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import respx

from cminbox.cli import main
from cminbox.core.clock import FrozenClock
from cminbox.core.errors import from_os_error
from cminbox.core.store import Store
from cminbox.tui.app import CminboxApp
from tests.factories import make_message
from tests.mastodon_fixtures import ME, notification
from tests.tui_fixtures import make_app, make_services

CHANNEL = (
    '[[channels]]\nname = "masto"\ntype = "mastodon"\nurl = "https://m.example"\ntoken_command = "printf tok-env"\n'
)


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    cfg = tmp_path / "config.toml"
    if not cfg.exists():
        cfg.write_text(CHANNEL)
    code = main(["--config", str(cfg), "--data-dir", str(tmp_path / "data"), *args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_about(err: str, path: Path) -> None:
    assert "internal error" not in err and "Traceback" not in err
    assert err.startswith("cminbox: ") and err.strip().count("\n") == 0, err
    assert str(path) in err, err


def fail_writes_under(folder: Path, code: int) -> Callable[..., int]:
    """os.open that refuses to create or write anything under ``folder`` (a read-only mount,
    simulated: chmod does not stop root)."""
    real_open = os.open

    def fake_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        writes = flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        if writes and Path(os.fsdecode(path)).resolve().is_relative_to(folder.resolve()):
            raise OSError(code, os.strerror(code), os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    return fake_open


def disk_full_under(folder: Path) -> Callable[[int, Any], int]:
    """os.write that fails with ENOSPC for files under ``folder``."""
    real_write = os.write

    def full(fd: int, payload: Any) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(folder.resolve())):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, payload)

    return full


def seeded(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    Store(data).upsert_messages([make_message(1), make_message(2)])
    return data


def test_a_read_only_data_folder_still_lists_and_names_the_folder_on_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = seeded(tmp_path)
    monkeypatch.setattr(os, "open", fail_writes_under(data, errno.EROFS))
    code, out, _ = run(tmp_path, capsys, "list")
    assert code == 0 and "masto:1" in out  # reading needs no write
    code, _, err = run(tmp_path, capsys, "tag", "masto:1", "billing")
    assert code == 1
    assert_one_line_about(err, data / "events")  # a step writes its events first
    assert "cannot write" in err and "--data-dir" in err


def test_an_unwritable_data_folder_path_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("not a folder")
    cfg = tmp_path / "config.toml"
    cfg.write_text(CHANNEL)
    code = main(["--config", str(cfg), "--data-dir", str(tmp_path / "file" / "data"), "list"])
    err = capsys.readouterr().err
    assert code == 1
    assert_one_line_about(err, tmp_path / "file" / "data")


def test_a_full_disk_is_named_and_leaves_the_old_file_intact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = seeded(tmp_path)
    before = {p: p.read_bytes() for p in data.rglob("*.json")}
    full = disk_full_under(data)
    monkeypatch.setattr(os, "write", full)
    code, _, err = run(tmp_path, capsys, "status", "masto:2", "done")
    assert code == 1
    assert "disk is full" in err and "Free some space" in err
    assert_one_line_about(err, data / "events")  # a step writes its events first
    assert {p: p.read_bytes() for p in data.rglob("*.json")} == before
    assert not list(data.rglob("*.tmp"))  # the half-written temp file is gone


def mastodon(api: respx.MockRouter, *ids: int) -> respx.Route:
    api.get("https://m.example/api/v1/accounts/verify_credentials").respond(json=ME)
    return api.get("https://m.example/api/v1/notifications").respond(json=[notification(n) for n in ids])


def test_a_poll_on_a_full_disk_reports_it_per_channel(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = seeded(tmp_path)
    full = disk_full_under(data)
    monkeypatch.setattr(os, "write", full)

    class FullLog(io.StringIO):  # the log is on the same full disk
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(logging.FileHandler, "_open", lambda self: FullLog())
    with respx.mock(assert_all_called=False) as api:
        mastodon(api, 1)
        code, out, err = run(tmp_path, capsys, "poll", "--once")
    assert code == 1 and "internal error" not in out + err
    assert "Logging error" not in err and "Traceback" not in err
    assert "masto" in out and "degraded" in out and "disk is full" in out and str(data / "events") in out


def test_a_corrupt_cursors_file_degrades_with_its_path_not_an_internal_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with respx.mock(assert_all_called=False) as api:
        mastodon(api, 1, 2)
        assert run(tmp_path, capsys, "poll", "--once")[0] == 0
        cursors = tmp_path / "data" / "state" / "cursors.json"
        cursors.write_text('{"cursors": {"1": {"id": "masto", "cur')
        code, out, _ = run(tmp_path, capsys, "poll", "--once")
    assert code == 1
    assert "degraded" in out and str(cursors) in out and "doctor --repair" in out
    assert "internal error" not in out
    assert cursors.read_text() == '{"cursors": {"1": {"id": "masto", "cur'  # left for the user to repair


def test_a_corrupt_health_file_is_rebuilt_and_the_poll_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    with respx.mock(assert_all_called=False) as api:
        mastodon(api, 1)
        assert run(tmp_path, capsys, "poll", "--once")[0] == 0
        health = tmp_path / "data" / "state" / "health.json"
        health.write_text("{ garbage")
        with caplog.at_level(logging.WARNING, logger="cminbox"):
            code, out, err = run(tmp_path, capsys, "poll", "--once")
    assert code == 0, out + err
    assert "masto" in out and "ok" in out
    assert str(health) in caplog.text and "rebuilt" in caplog.text
    code, out, _ = run(tmp_path, capsys, "channels")
    assert code == 0 and "ok" in out


async def test_the_tui_reports_a_full_disk_as_a_refusal_not_a_crash(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = make_services(tmp_path, clock)
    app = make_app(services)
    data = services.store.dir
    full = disk_full_under(data)
    async with app.run_test(size=(120, 40)) as pilot:
        monkeypatch.setattr(os, "write", full)
        await pilot.press("d")
        await pilot.pause()
        assert app.is_running
        notes = [(str(n.title), str(n.message)) for n in app._notifications]
        assert any(title == "Not done" and "disk is full" in text and str(data) in text for title, text in notes)


async def test_the_tui_says_why_the_engine_stopped(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = make_services(tmp_path, clock)
    assert services.engine is not None
    lock = services.store.dir / "poller.lock"

    async def cannot_lock(stop: object) -> None:
        raise from_os_error(OSError(errno.EROFS, os.strerror(errno.EROFS)), lock)

    monkeypatch.setattr(services.engine, "run", cannot_lock)
    app = CminboxApp(services, run_engine=True, blink=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert app.is_running
        notes = [(str(n.title), str(n.message)) for n in app._notifications]
        assert any(title == "Stopped" and str(lock) in text for title, text in notes), notes
