"""`cminbox export -o PATH`: the path is the argument's error when it cannot be written, and an
export is written whole or not at all.

Regressions (new-user trial of 2026-12-01): ``-o`` into a folder that does not exist was an
"internal error (FileNotFoundError ...)"; ``-o`` naming a folder said to choose another data
folder, which was not the problem.
"""

from __future__ import annotations

import errno
import json
import os
import threading
from pathlib import Path

import pytest

from cminbox.commands import store_cmds
from cminbox.core.store import Store
from tests.cli_in_process import cli
from tests.factories import make_message


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    store = Store(tmp_path / "data")
    store.upsert_messages([make_message(n) for n in range(3)])
    store.close()
    return tmp_path


@pytest.mark.parametrize("args", [[], ["--format", "csv"], ["--all"]])
def test_a_missing_folder_is_named(stored: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    target = stored / "nodir" / "out.jsonl"
    code, said = cli(stored, capsys, "export", *args, "-o", str(target))
    assert code == 1
    assert f"the folder {stored / 'nodir'} does not exist" in said
    assert "internal error" not in said and "Traceback" not in said
    assert not (stored / "nodir").exists()


def test_a_folder_given_as_the_file_is_said_so(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, said = cli(stored, capsys, "export", "-o", str(stored))
    assert code == 1
    assert "that is a folder" in said and "data folder" not in said


def test_the_export_is_written_and_nothing_else(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = stored / "out.jsonl"
    code, said = cli(stored, capsys, "export", "-o", str(target))
    assert code == 0, said
    assert "exported 3 item(s)" in said
    assert sorted(json.loads(line)["message"]["id"] for line in target.read_text().splitlines()) == [
        "masto:0",
        "masto:1",
        "masto:2",
    ]
    assert sorted(p.name for p in stored.iterdir()) == ["config.toml", "data", "out.jsonl"]


def test_a_write_that_fails_leaves_the_last_export_as_it_was(
    stored: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = stored / "out.jsonl"
    target.write_text("the export of yesterday\n")

    def full_disk(items: object, out: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_cmds, "write_jsonl", full_disk)
    code, said = cli(stored, capsys, "export", "-o", str(target))
    assert code == 1
    assert "No space left on device" in said and "nothing was exported" in said
    assert target.read_text() == "the export of yesterday\n"
    assert sorted(p.name for p in stored.iterdir()) == ["config.toml", "data", "out.jsonl"]


def test_a_pipe_is_written_as_it_is(stored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = stored / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    code, said = cli(stored, capsys, "export", "-o", str(fifo))
    reader.join(10)
    assert code == 0, said
    assert len(got[0].splitlines()) == 3
    assert fifo.exists()  # not replaced by a file
