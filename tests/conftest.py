from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keyring
import pytest

from cminbox.core.clock import FrozenClock
from cminbox.core.store import Store
from tests.memkeyring import MemoryKeyring

pytest_plugins = ["tests.servers.fixtures", "tests.servers.prism", "tests.servers.postgres"]


def _snapshots_at_repo_root() -> None:
    """SVG snapshots live in snapshots/<test module>/ at the repo root, not in tests/__snapshots__."""
    import pytest_textual_snapshot as plugin

    class RootSVGExtension(plugin.SVGImageExtension):  # type: ignore[misc, name-defined]
        @classmethod
        def dirname(cls, *, test_location: Any) -> str:
            return str(Path(__file__).resolve().parent.parent / "snapshots" / Path(test_location.filepath).stem)

    plugin.SVGImageExtension = RootSVGExtension  # snap_compare looks the class up when it runs


_snapshots_at_repo_root()
ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary HOME and XDG dirs, and an in-memory keyring: never the user's own."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    for var in ("CMINBOX_CONFIG", "CMINBOX_DATA_DIR", "CMINBOX_FAILPOINT", "VISUAL", "EDITOR"):
        monkeypatch.delenv(var, raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield home
    keyring.set_keyring(previous)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: FrozenClock) -> Store:
    return Store(tmp_path / "data", clock=clock)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMINBOX_")}
    # A keyring backend that cannot leak: subprocess tests use token_command or the demo override.
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cminbox", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or cli_env(),
        cwd=ROOT,
        input=input,
    )
