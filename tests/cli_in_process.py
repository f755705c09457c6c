"""`cminbox` run in this process, as a user would type it, with a one-line config in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from cminbox.cli import main


def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """The exit code, and what it printed (stdout then stderr); argparse's usage errors too."""
    config = tmp_path / "config.toml"
    config.write_text('[user]\nname = "ana"\n')
    try:
        code = main(["--config", str(config), "--data-dir", str(tmp_path / "data"), *args])
    except SystemExit as exit_:  # argparse's usage errors
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out + err
