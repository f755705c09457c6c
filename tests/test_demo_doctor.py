"""The demo from a second shell: the README's export line gives a working CLI, doctor included."""

from __future__ import annotations

from pathlib import Path

from cminbox.demo.session import start_demo
from tests.conftest import cli_env, run_cli


def test_doctor_on_the_demo_s_config_finds_nothing_wrong(tmp_path: Path) -> None:
    """Regression (new-user trial of 2026-12-01): `cminbox doctor` with the demo's exports
    printed "FAIL keyring" and "lumen: FAIL cannot get the token" and exited 1 on a demo that
    polled and replied; the keyring is not needed there and the token was not reachable."""
    session = start_demo(rate=0, burst_after=-1, data_dir=str(tmp_path / "demo"))
    try:
        env = cli_env(CMINBOX_DATA_DIR=str(session.data_dir), CMINBOX_CONFIG=str(session.data_dir / "demo.toml"))
        done = run_cli("doctor", env=env)
    finally:
        session.close()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAIL" not in done.stdout and "warn  keyring" in done.stdout and "token_command" in done.stdout
    assert "authorised as @lumen" in done.stdout, done.stdout


async def test_the_tui_demo_names_its_data_folder(tmp_path: Path) -> None:
    """Regression (new-user trial of 2026-12-01): `make demo` showed nowhere where its data
    was, though the README sends the reader to a second shell with that folder."""
    from cminbox.core import config as config_mod
    from cminbox.core.clock import system_clock
    from cminbox.core.wiring import Setup
    from cminbox.tui.launch import demo_app

    with start_demo(rate=0, burst_after=-1) as session:
        app = demo_app(session, Setup(config_mod.Config, session.data_dir, system_clock, session.secrets))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.2)
            said = [str(n.message) for n in app._notifications]
            assert any(
                f"export CMINBOX_DATA_DIR={session.data_dir} " in m and "removed when you quit" in m for m in said
            )
