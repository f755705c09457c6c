"""An endless response costs a bounded amount of memory, for every channel type and the webhook target.

A real server on 127.0.0.1 answers every request with a 200 whose body never ends (it stops
at 400 MB so that a client which reads everything fails this test without exhausting the
machine). A child process polls each channel type once, and delivers to a webhook target,
against it; its peak RSS (``ru_maxrss``) must stay under 300 MB and every attempt must end
with the body refused at the 8 MB limit.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

SERVER = textwrap.dedent(
    """
    import sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    CHUNK = b'{"id": "1", "text": "' + b"x" * 65000 + b'"},'
    LIMIT = 400 * 1024 * 1024

    class Endless(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # the body ends when the connection does: never, here

        def _any(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            sent = 0
            try:
                self.wfile.write(b"[")
                while sent < LIMIT:
                    self.wfile.write(CHUNK)
                    sent += len(CHUNK)
            except OSError:
                pass  # the client stopped reading: what it should do

        do_GET = do_POST = do_PUT = _any

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endless)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """
)

CLIENT = textwrap.dedent(
    """
    import asyncio, json, resource, sys, tempfile
    from pathlib import Path

    # The peak is this process's own. Linux keeps the RSS high-water mark across fork and
    # exec, so a child of a big parent (pytest after 700 tests: ~380 MB) would start with
    # the parent's peak; writing 5 to clear_refs resets it (Linux >= 4.0).
    def peak_mb():
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass

    from cminbox.core import config
    from cminbox.core.channel import ChannelError
    from cminbox.core.clock import system_clock
    from cminbox.core.engine import Engine
    from cminbox.core.outbox import Outbox
    from cminbox.core.secrets import Secrets
    from cminbox.core.store import Store

    base = sys.argv[1]
    session = json.dumps({"accessJwt": "jwt-a", "refreshJwt": "jwt-r", "did": "did:plc:me", "handle": "me.test"})
    reddit = json.dumps({"client_secret": "app-secret", "password": "pw-secret"})
    conf = f'''
    [[channels]]
    name = "mastodon"
    type = "mastodon"
    url = "{base}"
    [[channels]]
    name = "github"
    type = "github"
    url = "{base}"
    [[channels]]
    name = "discourse"
    type = "discourse"
    url = "{base}"
    account = "cm"
    [[channels]]
    name = "reddit"
    type = "reddit"
    url = "{base}"
    account = "cm_bot"
    client_id = "app-id"
    auth_url = "{base}/api/v1/access_token"
    [[channels]]
    name = "bluesky"
    type = "bluesky"
    url = "{base}"
    [[channels]]
    name = "matrix"
    type = "matrix"
    url = "{base}"
    [[channels]]
    name = "feed"
    type = "feed"
    url = "{base}/feed.xml"
    [[escalation.targets]]
    name = "hook"
    url = "{base}/hook"
    secret_command = "unused"
    '''
    secrets = Secrets({"mastodon": "tok-m", "github": "tok-g", "discourse": "key-d", "reddit": reddit,
                       "bluesky": session, "matrix": "tok-x", "escalation:hook": "hook-secret"})

    async def main():
        data = Path(tempfile.mkdtemp())
        store = Store(data)
        engine = Engine(config.parse(conf), store, Outbox(data, store.lock), secrets, system_clock)
        reasons = {}
        for name, channel in engine.channels.items():
            try:
                await channel.poll(None)
                reasons[name] = "no error"
            except ChannelError as exc:
                reasons[name] = exc.reason
            peaks[name] = round(peak_mb())
        try:
            await engine.targets["hook"].deliver({"event": "test"}, "d1")
            reasons["webhook"] = "no error"
        except ChannelError as exc:
            reasons["webhook"] = exc.reason
        await engine.aclose()
        return reasons

    peaks = {}  # the peak so far after each channel: a failure says which one grew
    reasons = asyncio.run(main())
    print(json.dumps({"reasons": reasons, "peak_mb": peak_mb(), "peak_after": peaks}))
    """
)


@pytest.fixture
def endless_server() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()


def test_an_endless_body_is_cut_at_the_limit_for_every_channel_and_target(endless_server: str, tmp_path: Path) -> None:
    # The timeout only keeps a regression from hanging the suite; it proves nothing about speed.
    done = subprocess.run(
        [sys.executable, "-c", CLIENT, endless_server],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.splitlines()[-1])
    reasons = report["reasons"]
    assert set(reasons) == {"mastodon", "github", "discourse", "reddit", "bluesky", "matrix", "feed", "webhook"}
    for name, reason in reasons.items():
        assert "larger than 8 MB" in reason, f"{name}: {reason}"
    assert report["peak_mb"] < 300, report
