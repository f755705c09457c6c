"""Bad input gets one clear paragraph that says what to do, never a traceback."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import cli_env, free_port, run_cli


def config(tmp_path: Path, body: str) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(body)
    return cli_env(CMINBOX_CONFIG=str(path), CMINBOX_DATA_DIR=str(tmp_path / "data"))


def assert_one_paragraph(stderr: str) -> None:
    assert "Traceback" not in stderr
    assert stderr.startswith("cminbox: ")
    assert "\n\n" not in stderr.strip()


def test_malformed_config_names_file_line_and_key(tmp_path: Path) -> None:
    env = config(tmp_path, '[[channels]]\nname = "m"\ntype = "mastodon"\nurl = "https://m.example"\nintervl = 9\n')
    result = run_cli("list", env=env)
    assert result.returncode == 2
    assert_one_paragraph(result.stderr)
    assert f"{tmp_path / 'config.toml'}, line 5, key `channels[0].intervl`" in result.stderr
    assert "Did you mean `interval`?" in result.stderr
    check = run_cli("config", "check", env=env)
    assert check.returncode == 2 and "line 5" in check.stderr


def test_toml_syntax_error(tmp_path: Path) -> None:
    result = run_cli("channels", env=config(tmp_path, "[[channels]\nname = 1\n"))
    assert result.returncode == 2
    assert_one_paragraph(result.stderr)
    assert "line 1" in result.stderr and "not valid TOML" in result.stderr


def test_unknown_channel_type(tmp_path: Path) -> None:
    result = run_cli(
        "poll",
        "--once",
        env=config(tmp_path, '[[channels]]\nname = "x"\ntype = "myspace"\nurl = "https://x.example"\n'),
    )
    assert result.returncode == 2
    assert_one_paragraph(result.stderr)
    assert "unknown channel type 'myspace'" in result.stderr and "mastodon" in result.stderr


def test_missing_token_says_how_to_log_in(tmp_path: Path) -> None:
    port = free_port()
    env = config(tmp_path, f'[[channels]]\nname = "masto"\ntype = "mastodon"\nurl = "http://127.0.0.1:{port}"\n')
    result = run_cli("poll", "--once", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "masto" in result.stdout and "auth-failed" in result.stdout
    assert "keyring" in result.stdout and "token_command" in result.stdout


def test_unreachable_server(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    env = config(
        tmp_path,
        f'[[channels]]\nname = "masto"\ntype = "mastodon"\nurl = "http://127.0.0.1:{port}"\n'
        'token_command = "printf tok-unreachable"\n',
    )
    result = run_cli("poll", "--once", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "degraded" in result.stdout and "cannot reach 127.0.0.1" in result.stdout
    channels = run_cli("channels", env=env)
    assert "degraded" in channels.stdout and "cannot reach" in channels.stdout


def test_failing_token_command(tmp_path: Path) -> None:
    env = config(
        tmp_path,
        '[[channels]]\nname = "masto"\ntype = "mastodon"\nurl = "https://m.example"\n'
        "token_command = \"sh -c 'echo oops-secret >&2; exit 3'\"\n",
    )
    result = run_cli("poll", "--once", env=env)
    assert "exit status 3" in result.stdout + result.stderr
    assert "oops-secret" not in result.stdout + result.stderr


def test_unknown_id_and_bad_values(tmp_path: Path) -> None:
    env = config(tmp_path, "")
    result = run_cli("tag", "nope:1", "x", env=env)
    assert result.returncode == 1 and "no message with id 'nope:1'" in result.stderr
    assert "a whole id or the end of one" in result.stderr  # new-user trial: a prefix never matched
    assert_one_paragraph(result.stderr)


def test_missing_explicit_config(tmp_path: Path) -> None:
    result = run_cli("--config", str(tmp_path / "absent.toml"), "list")
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_config_example_is_valid(tmp_path: Path) -> None:
    example = run_cli("config", "example").stdout
    env = config(tmp_path, example)
    assert run_cli("config", "check", env=env).returncode == 0
