"""A state read before a teammate's change, landing while one of this instance's writes is in
flight, must not become that write's base: when the write then fails, the row goes back to
the newest state it showed, not to the older one (which the row, keeping the newer revision,
would refuse: the failed change stayed on screen). Review of 2026-12-02."""

from __future__ import annotations

import asyncio

import msgspec

from cminbox.core.errors import StoreUnavailable
from cminbox.core.models import Status, TriageState
from cminbox.core.triage import AddTags
from cminbox.tui.store_worker import Write, Writes, optimistic


async def test_a_late_read_is_not_the_base_a_failed_write_goes_back_to() -> None:
    base = TriageState(id="masto:1", rev=5)
    teammates = msgspec.structs.replace(base, status=Status.DONE, rev=6)  # the row shows this
    shown: list[TriageState] = []
    failures: list[str] = []

    async def inline(call: object) -> object:
        return call()  # type: ignore[operator]

    writes = Writes(
        store=lambda: None,  # type: ignore[arg-type,return-value]
        show=shown.extend,
        current=lambda ids: {mid: teammates for mid in ids},
        refuse=lambda: None,
        run_in_thread=inline,
    )

    def down() -> None:
        raise StoreUnavailable("the store is unreachable")

    tag = Write(
        call=down,
        expect={"masto:1": optimistic(AddTags(("bug",)))},
        done=lambda _r, _s: None,
        failed=lambda exc: failures.append(str(exc)),
    )
    writes.submit(tag)
    assert shown[-1].tags == ("bug",) and shown[-1].rev == 6  # at once, on the newest state
    late = writes.stored([base])  # the author card's catch-up, read before the teammate's change
    assert late[0].rev == 6 and late[0].tags == ("bug",)  # the newer base kept, the write on it
    await writes._one(writes.pending[0])
    assert failures
    assert shown[-1] == teammates  # back to the newest state, not to the late read's
    assert "masto:1" not in writes.confirmed
    await asyncio.sleep(0)
