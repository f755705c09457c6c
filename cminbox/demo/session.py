"""Starting a demo session: the server in a thread, a data dir, a config pointing at it."""

from __future__ import annotations

import json
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cminbox.core import config as config_mod
from cminbox.core.config import Config
from cminbox.core.secrets import Secrets
from cminbox.core.store import Store
from cminbox.demo.community import INCIDENT_TAG
from cminbox.demo.people import seed_people
from cminbox.demo.server import DemoHTTPServer
from cminbox.demo.state import DemoState

DEMO_CHANNEL = "lumen"
DEMO_TOKEN = "demo-token"  # noqa: S105 - the local demo server's public, fake token


def demo_config_text(url: str, *, me: str = "demo", token_command: str = "") -> str:
    """The demo's config; ``token_command`` for an instance started from a shell (the demo
    itself passes the token in-process)."""
    token = f"token_command = {json.dumps(token_command)}\n" if token_command else ""
    return f"""\
# Written by `cminbox demo`: a Mastodon channel pointed at the local demo server.
[team]
me = {json.dumps(me)}

[[channels]]
name = "{DEMO_CHANNEL}"
type = "mastodon"
url = "{url}"
account = "@lumen@demo.lumen.community"
staff = ["@lumen@demo.lumen.community", "@noor@demo.lumen.community"]
interval = 5
backfill_pages = 10
{token}
[[escalation.targets]]
name = "oncall"
type = "webhook"
url = "{url}/_demo/webhook"

[[saved_replies]]
name = "looking into it"
text = "Thanks for flagging this! We're looking into it and will update you here."

[[saved_replies]]
name = "outage ack"
text = "We know sync is down and are working on it. Your notes are safe locally; updates on our status page."

[[views]]
key = "6"
name = "outage"
query = "tag:outage -status:done"

# The rules run on every new item as it is stored, in this order (README: Rules). The people
# they read (trolls, VIPs, the advocate) are tagged when the demo starts (demo/people.py).
[[rules]]
name = "trolls"
when = "author-tag:troll"
mute = "troll"
stop = true

[[rules]]
name = "outage"
when = '"{INCIDENT_TAG.lower()}"'
tag = ["outage"]
priority = "high"

[[rules]]
name = "outage-ack"
when = "tag:outage -from:staff"
reply = "outage ack"
auto_reply = true

[[rules]]
name = "vip"
when = "author-tag:vip"
priority = "high"

[[rules]]
name = "bugs"
when = '"found a bug" or "crash report" or "duplicate notes" or "data loss" or unreadable'
tag = ["bug"]

[[rules]]
name = "community-answers"
when = "author-tag:advocate"
tag = ["community-answer"]
priority = "low"

# Macros (README: Macros): view 6 (the outage), V selects the burst, O answers and closes it
# all in one step; u takes the triage back. `m` lists them all.
[[saved_replies]]
name = "outage fixed"
text = "Sync is back, {{author.first_name}}: thanks for your patience! What you wrote meanwhile syncs on its own."

[[macros]]
name = "outage"
key = "O"
description = "The incident answer: tag, reply that sync is back, close"
steps = [{{tag = ["outage"]}}, {{reply = "outage fixed"}}, {{done = true}}]

[[macros]]
name = "spam"
description = "Close as spam, with a note"
steps = [{{tag = ["spam"]}}, {{note = "closed as spam"}}, {{done = true}}]

[[macros]]
name = "page-oncall"
description = "Wake the on-call engineer for this one"
steps = [{{priority = "urgent"}}, {{escalate = {{target = "oncall", note = "customer-facing, please look"}}}}]
# Moderating with one of these (M, then pick it) tells the author which applied: on Mastodon a
# direct message, sent once the report went through (README: Guidelines).
[[guidelines]]
name = "be-kind"
text = "Be kind: criticise ideas, not people."
url = "https://demo.lumen.community/guidelines#be-kind"

[[guidelines]]
name = "no-spam"
text = "No advertising or referral links."
url = "https://demo.lumen.community/guidelines#no-spam"
follow_up = "Hi {{author.first_name}}, your post was {{action}}: {{guideline.text}} See {{guideline.url}}"

[[guidelines]]
name = "on-topic"
text = "Keep threads about Lumen; the forum has an off-topic corner."
url = "https://demo.lumen.community/guidelines#on-topic"
"""


@dataclass
class DemoSession:
    server: DemoHTTPServer
    config: Config
    secrets: Secrets
    data_dir: Path
    # The data dir is a temporary folder made for this session (no --data-dir): removed on close.
    temporary: bool = False

    @property
    def export_line(self) -> str:
        """The shell line that points a second shell's commands at this demo's data."""
        return f"export CMINBOX_DATA_DIR={self.data_dir} CMINBOX_CONFIG={self.data_dir / 'demo.toml'}"

    def close(self) -> None:
        """Stop the server and remove the temporary data dir (a --data-dir is the user's: kept)."""
        self.server.shutdown()
        self.server.server_close()
        if self.temporary:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> DemoSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_demo(
    seed: int = 7, rate: float = 6.0, burst_after: float = 60.0, data_dir: str | None = None, token: str = DEMO_TOKEN
) -> DemoSession:
    server = DemoHTTPServer(DemoState(seed=seed, rate=rate, burst_after=burst_after, token=token), 0)
    server.start_in_thread()
    folder = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="cminbox-demo-"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        cfg_path = folder / "demo.toml"
        # The demo's fake public token as token_command, so that `cminbox poll` or `doctor`
        # from a second shell (the README's export line) reach the server too; a --token
        # given for a test is not written anywhere.
        command = shlex.join(["echo", DEMO_TOKEN]) if token == DEMO_TOKEN else ""
        cfg_path.write_text(demo_config_text(server.url, token_command=command), encoding="utf-8")
        config = config_mod.parse(cfg_path.read_text(), cfg_path)
        store = Store(folder)
        try:
            seed_people(store, config)
        finally:
            store.close()
    except BaseException:
        DemoSession(server, config_mod.Config(), Secrets({}), folder, temporary=not data_dir).close()
        raise
    return DemoSession(server, config, Secrets({DEMO_CHANNEL: token}), folder, temporary=not data_dir)
