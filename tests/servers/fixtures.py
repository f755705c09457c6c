"""Real test servers, started per session by PID and always stopped (even when tests fail).

Installed by tests/servers/install.sh (which `make test` runs). Locally, a missing
server skips its tests with the reason and the fix; under CI=true it is a failure.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVERS = ROOT / ".cache" / "servers"
SPECS = Path(os.environ.get("CMINBOX_SPECS", ROOT.parent / "shared" / "specs"))


def _missing(what: str, fix: str) -> None:
    message = f"{what} is not available: {fix}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (under CI a missing test server is a failure, not a skip)")
    pytest.skip(message)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; log:\n{log.read_text()[-2000:]}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} not ready after {timeout} s; log:\n{log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _start(
    argv: list[str], ready_url: str, log: Path, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, **(env or {})}
        )
    try:
        _wait_ready(ready_url, proc, timeout, log)
    except BaseException:
        _stop(proc)
        raise
    return proc


@pytest.fixture(scope="session")
def mastodon_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = SERVERS / "mastodon-mock" / "bin" / "mastodon_mock"
    if not exe.exists():
        _missing("mastodon-mock", "run `make test` (or tests/servers/install.sh) to install it")
    port = _free_port()
    log = tmp_path_factory.mktemp("mastodon-mock") / "server.log"
    proc = _start(
        [str(exe), "serve", "--in-memory", "--host", "127.0.0.1", "--port", str(port)],
        f"http://127.0.0.1:{port}/api/v1/instance",
        log,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


def _patched_mastodon_spec(dest: Path) -> Path:
    """The Mastodon description declares the Idempotency-Key header as an object, which
    crashes Prism; it is a string in Mastodon's docs, so patch just that schema."""
    spec = json.loads((SPECS / "mastodon-openapi.json").read_text())
    for param in spec["paths"]["/api/v1/statuses"]["post"].get("parameters", []):
        if param.get("name") == "Idempotency-Key":
            param["schema"] = {"type": "string"}
    out = dest / "mastodon-openapi.patched.json"
    out.write_text(json.dumps(spec))
    return out


@pytest.fixture(scope="session")
def prism_mastodon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    prism = SERVERS / "node" / "node_modules" / ".bin" / "prism"
    if not prism.exists():
        _missing("Prism", "run `make test` (or tests/servers/install.sh; needs npm) to install it")
    if not (SPECS / "mastodon-openapi.json").exists():
        _missing("the Mastodon OpenAPI description", f"set CMINBOX_SPECS to the folder holding it (looked in {SPECS})")
    tmp = tmp_path_factory.mktemp("prism-mastodon")
    spec = _patched_mastodon_spec(tmp)
    port = _free_port()
    proc = _start(
        [str(prism), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)],
        f"http://127.0.0.1:{port}/api/v2/instance",
        tmp / "prism.log",
        timeout=120,
        env={"SCARF_ANALYTICS": "false"},
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`cminbox demo-server` as a real process: seeded, no live stream, no incident."""
    port = _free_port()
    log = tmp_path_factory.mktemp("demo") / "server.log"
    proc = _start(
        [
            sys.executable,
            "-m",
            "cminbox",
            "demo-server",
            "--port",
            str(port),
            "--seed",
            "3",
            "--rate",
            "0",
            "--burst-after",
            "-1",
        ],
        f"http://127.0.0.1:{port}/api/v2/instance",
        log,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)
