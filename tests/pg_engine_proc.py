"""An app instance for the multi-process PostgreSQL tests: the engine's run loop on the team
store, with a recording channel, while its person keeps acting.

    python -m tests.pg_engine_proc CONFIG DATA CONTROL ME [--instance ID]

``--instance`` is its identity in the store (``host:pid:random``): naming another host makes
it one, whose claims and lease nobody here can check by pid. The objects are wired as the app
wires them (``wire``), and the engine runs as the TUI runs it
(``Engine.run``: take the poller lease, or wait passively and take it over). The configured
channel ``masto`` is swapped for :class:`RecordingChannel`, which stands for a server that honours
idempotency keys: each reply attempt is appended to ``CONTROL/sent.log`` as
``<key> <pid> <time> new|dup`` (``dup``: that key was seen before, so the server posted nothing),
then it returns. Each poll appends ``poll <pid> <time>`` to
``CONTROL/poll.log``.

The person, on a thread, adds a tag every 0.1 s (and queues a reply every tenth time) until
``CONTROL/quiet`` exists, printing after each call returned::

    ACK tag <message id> <tag> <time>     committed
    ACK out <outbox item id> <time>       a reply queued
    REFUSED <time> tag <message id> <tag> <message>   refused, with the message a person sees
    REFUSED <time> out <message id> - <message>

``ACTIVE <pid> <time>`` is printed each time this instance takes the lease and starts polling;
``STALL <seconds> <time>`` when the event loop (the one the TUI draws from) was kept from running
for more than :data:`STALL` seconds. While ``CONTROL/hold`` exists, a reply send waits after it
reached the "server" (a send in flight, for a kill to land in). The process exits when
``CONTROL/stop`` exists.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import random
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

from cminbox.core import config
from cminbox.core.channel import Capabilities, Identity, PollResult, ReplyReceipt
from cminbox.core.clock import system_clock
from cminbox.core.errors import CminboxError
from cminbox.core.models import Message
from cminbox.core.outbox import OutboxKind
from cminbox.core.secrets import Secrets
from cminbox.core.triage import AddTags
from cminbox.core.wiring import Wired, open_store, store_settings, wire

STALL = 1.5  # the defect it catches held the loop for connect_timeout (2 s in the crash test)
_print_lock = threading.Lock()


def say(line: str) -> None:
    with _print_lock:
        print(line, flush=True)


def append(path: Path, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


class RecordingChannel:
    type_name: ClassVar[str] = "recording"
    capabilities: ClassVar[Capabilities] = Capabilities()
    Options: ClassVar[Any] = None

    def __init__(self, control: Path) -> None:
        self.hold = control / "hold"
        self.sent = control / "sent.log"
        self.polls = control / "poll.log"

    async def whoami(self) -> Identity:
        return Identity(id="1", handle="@team")

    async def poll(self, cursor: dict[str, Any] | None) -> PollResult:
        append(self.polls, f"poll {os.getpid()} {time.time():.3f}")
        return PollResult(messages=[], cursor=cursor)

    async def thread(self, message: Message) -> list[Message]:
        return [message]

    async def reply(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        # The "server" decides under a lock, as a real one does, whether the key is new.
        with self.sent.open("a+") as log:
            fcntl.flock(log, fcntl.LOCK_EX)
            log.seek(0)
            seen = any(line.split()[0] == idempotency_key for line in log.read().splitlines())
            log.write(f"{idempotency_key} {os.getpid()} {time.time():.3f} {'dup' if seen else 'new'}\n")
            log.flush()
            os.fsync(log.fileno())
        while self.hold.exists():
            await asyncio.sleep(0.05)
        return ReplyReceipt(native_id=idempotency_key)

    async def moderate(self, message: Message, action: str, reason: str) -> None:
        raise NotImplementedError("the tests queue replies only")

    async def aclose(self) -> None:
        pass


def person(wired: Any, me: str, control: Path, seed: int) -> None:
    rng = random.Random(seed)
    ids = sorted(wired.store.message_ids())
    n = 0
    while not (control / "quiet").exists():
        mid = rng.choice(ids)
        try:
            if n % 10 == 9:
                item = wired.store.outbox.enqueue(OutboxKind.REPLY, mid, "masto", {"text": f"{me} {n}"}, me)
                say(f"ACK out {item.id} {time.time():.3f}")
            else:
                tag = f"{me}-{n}"
                wired.store.act([mid], AddTags((tag,)), actor=me)
                say(f"ACK tag {mid} {tag} {time.time():.3f}")
        except CminboxError as exc:
            what = f"out {mid} -" if n % 10 == 9 else f"tag {mid} {me}-{n}"
            say(f"REFUSED {time.time():.3f} {what} {' '.join(str(exc).split())}")
        n += 1
        time.sleep(0.1)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config", type=Path)
    parser.add_argument("data", type=Path)
    parser.add_argument("control", type=Path)
    parser.add_argument("me")
    parser.add_argument("--instance")
    args = parser.parse_args()
    cfg = config.parse(args.config.read_text(), args.config)
    if args.instance:  # as wire() builds it, with this identity
        settings = store_settings(cfg, args.data, secrets=Secrets({}))
        settings.options["instance"] = args.instance
        wired = Wired(cfg, open_store(settings), system_clock, Secrets({}))
    else:
        wired = wire(cfg, args.data, secrets=Secrets({}))
    engine = wired.engine()
    await engine.channels["masto"].aclose()
    engine.channels["masto"] = RecordingChannel(args.control)  # type: ignore[assignment]
    acting = threading.Thread(target=person, args=(wired, args.me, args.control, os.getpid()), daemon=True)
    acting.start()
    stop = asyncio.Event()

    async def until_told() -> None:
        while not (args.control / "stop").exists():
            await asyncio.sleep(0.1)
        stop.set()

    async def ticker() -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.05)
            now = time.monotonic()
            if now - last > STALL:
                say(f"STALL {now - last:.2f} {time.time():.3f}")
            last = now

    watcher = asyncio.create_task(until_told())
    ticking = asyncio.create_task(ticker())
    await engine.run(stop, on_active=lambda: say(f"ACTIVE {os.getpid()} {time.time():.3f}"))
    await watcher
    await ticking
    acting.join()
    await engine.aclose()
    wired.store.close()
    say("EXIT")


if __name__ == "__main__":
    asyncio.run(main())
