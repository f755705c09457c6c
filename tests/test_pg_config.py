"""The `[store]` keys of the PostgreSQL backend, without a server: config check refuses a
password in the DSN (file, line, key), the libpq options pass through to the conninfo, the
password comes from password_command or the keyring and is redacted, and a missing psycopg
says exactly how to install it (in the error and in `cminbox doctor`)."""

from __future__ import annotations

import builtins
import json
import sys
from pathlib import Path
from typing import Any

import keyring
import pytest

from cminbox import cli
from cminbox.core import config
from cminbox.core.pg import connection
from cminbox.core.pg.connection import INSTALL_HINT, KEYRING_ENTRY, PsycopgMissingError, dsn_has_password
from cminbox.core.redact import redactor
from cminbox.core.secrets import Secrets

PG = '[store]\nbackend = "postgresql"\n'


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> tuple[int, str]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    code = cli.main(["--config", str(path), "config", "check"])
    out = capsys.readouterr()
    return code, out.out + out.err


def refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, line: int, key: str) -> str:
    code, out = check(tmp_path, capsys, text)
    assert code == cli.EXIT_CONFIG, out
    assert f"config error in {tmp_path / 'config.toml'}, line {line}, key `{key}`" in out, out
    return out


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://ana:s3cret@db.example.com/cminbox",
        "postgres://ana:s3cret@db1,db2/cminbox",
        "postgresql://ana@db.example.com/cminbox?sslmode=require&password=s3cret",
        "host=db.example.com user=ana password=s3cret dbname=cminbox",
        "host=db.example.com PASSWORD = 's3cret'",
    ],
)
def test_a_password_in_the_dsn_is_refused_with_file_line_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dsn: str
) -> None:
    out = refused(tmp_path, capsys, PG + f"dsn = {json.dumps(dsn)}\n", 3, "store.dsn")
    assert "contains a password" in out and "cminbox login store" in out and ".pgpass" in out


@pytest.mark.parametrize(
    "dsn",
    ["postgresql://ana@db.example.com/cminbox", "postgresql://db/cminbox?sslmode=require", "host=db user=ana"],
)
def test_a_dsn_without_a_password_is_accepted(dsn: str) -> None:
    assert not dsn_has_password(dsn)
    assert config.parse(PG + f'dsn = "{dsn}"\n').store.dsn == dsn


def test_the_backend_and_its_keys_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = refused(tmp_path, capsys, '[store]\nbackend = "mysql"\n', 2, "store.backend")
    assert '"postgresql", "tinydb"' in out
    out = refused(tmp_path, capsys, PG, 1, "store")
    assert "needs a `dsn`" in out
    out = refused(tmp_path, capsys, '[store]\ndsn = "postgresql://a@db/x"\n', 2, "store.dsn")
    assert 'backend = "postgresql"' in out
    dsn = 'dsn = "postgresql://a@db/x"\n'
    out = refused(tmp_path, capsys, PG + dsn + 'sslmode = "verify"\n', 4, "store.sslmode")
    assert '"verify-full"' in out
    out = refused(tmp_path, capsys, PG + dsn + "connect_timeout = 0\n", 4, "store.connect_timeout")
    assert "from 1 to 300" in out
    out = refused(tmp_path, capsys, PG + dsn + 'sslrootcert = "/nowhere/ca.pem"\n', 4, "store.sslrootcert")
    assert "is not a file" in out
    out = refused(tmp_path, capsys, PG + dsn + 'passwrod_command = "pass db"\n', 4, "store.passwrod_command")
    assert "password_command" in out


def test_libpq_options_pass_through_and_the_password_stays_out_of_the_conninfo(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    cfg = config.parse(
        PG + 'dsn = "postgresql://ana@db.example.com:6543/cminbox"\n'
        f'sslmode = "verify-full"\nsslrootcert = "{ca}"\nconnect_timeout = 7\napplication_name = "cminbox-ana"\n'
        'password_command = "printf hunter2-db-pass"\n'
    ).store
    tgt = connection.target(cfg, Secrets())
    import psycopg

    info = psycopg.conninfo.conninfo_to_dict(tgt.conninfo)
    assert info["sslmode"] == "verify-full" and info["sslrootcert"] == str(ca)
    assert info["connect_timeout"] == "7" and info["application_name"] == "cminbox-ana"
    assert info["host"] == "db.example.com" and info["port"] == "6543" and info["user"] == "ana"
    assert "password" not in info and tgt.password == "hunter2-db-pass"
    assert redactor.redact("auth failed for hunter2-db-pass") == "auth failed for «redacted»"
    assert tgt.describe() == "ana@db.example.com:6543/cminbox"
    # Its repr reaches tracebacks with their locals and logs: never the password.
    assert "hunter2-db-pass" not in repr(tgt) and "password=<hidden>" in repr(tgt)


def test_a_dsn_sslmode_is_not_weakened_when_the_key_is_absent() -> None:
    cfg = config.parse(PG + 'dsn = "postgresql://ana@db/x?sslmode=verify-full"\n').store
    import psycopg

    assert psycopg.conninfo.conninfo_to_dict(connection.target(cfg, Secrets()).conninfo)["sslmode"] == "verify-full"


def test_the_password_comes_from_the_keyring_entry_of_login_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(PG + 'dsn = "postgresql://ana@db.example.com/cminbox"\n')
    monkeypatch.setenv("CMINBOX_PASSWORD", "keyring-db-pass")
    assert cli.main(["--config", str(path), "login", "store", "--from-env"]) == 0
    assert "stored the database password in the keyring" in capsys.readouterr().out
    assert keyring.get_password("cminbox", KEYRING_ENTRY) == "keyring-db-pass"
    cfg = config.load(path).store
    assert connection.target(cfg, Secrets()).password == "keyring-db-pass"
    assert redactor.redact("keyring-db-pass") == "«redacted»"


def test_without_any_password_libpq_decides(tmp_path: Path) -> None:
    """No command, no keyring entry: no password is passed, so libpq reads PGPASSFILE/.pgpass."""
    cfg = config.parse(PG + 'dsn = "postgresql://ana@db.example.com/cminbox"\n').store
    assert connection.target(cfg, Secrets()).password is None


def _hide_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] in ("psycopg", "psycopg_pool"):
            raise ImportError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    for mod in [m for m in sys.modules if m.split(".")[0] in ("psycopg", "psycopg_pool")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setattr(builtins, "__import__", fake_import)


def test_a_missing_driver_says_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _hide_psycopg(monkeypatch)
    cfg = config.parse(PG + 'dsn = "postgresql://ana@db.example.com/cminbox"\n')  # config check needs no driver
    from cminbox.core.pg.open import open_postgres_store

    with pytest.raises(PsycopgMissingError) as err:
        open_postgres_store(cfg.store)
    assert "pip install 'cminbox[postgresql]'" in str(err.value) and "pipx inject cminbox" in str(err.value)
    assert INSTALL_HINT in str(err.value) and "psycopg missing" in str(err.value)
    path = tmp_path / "config.toml"
    path.write_text(PG + 'dsn = "postgresql://ana@db.example.com/cminbox"\n')
    code = cli.main(["--config", str(path), "--data-dir", str(tmp_path / "data"), "doctor"])
    out = capsys.readouterr().out
    assert code == 1 and "FAIL  postgresql driver" in out and "pip install 'cminbox[postgresql]'" in out


# Regression (review of 2026-12-01): a wrong password, no password or a database that does not
# exist waited the whole connect_timeout and was said as "unreachable ... try again when the
# server is back", after four psycopg_pool warnings printed over it.
class _Refusal(Exception):
    def __init__(self, text: str, sqlstate: str | None) -> None:
        super().__init__(text)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("text", "sqlstate", "said"),
    [
        ('FATAL:  password authentication failed for user "cminbox"', "28P01", "refused the password"),
        ("fe_sendauth: no password supplied", None, "none was given"),
        ('FATAL:  database "nosuchdb" does not exist', "3D000", "does not exist"),
        ('FATAL:  no pg_hba.conf entry for host "10.0.0.9"', "28000", "pg_hba.conf"),
    ],
    ids=["password", "no-password", "no-database", "hba"],
)
def test_settings_the_server_refuses_are_said_with_what_to_change(text: str, sqlstate: str | None, said: str) -> None:
    error = connection.refused(_Refusal(text, sqlstate), "ana@db/cminbox")
    assert error is not None and said in str(error) and "password_command" in error.hint
    assert connection.refused(_Refusal("connection refused: is the server running?", None), "x") is None


def test_a_database_that_does_not_exist_is_refused_not_unreachable(
    postgres_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.pg_helpers import open_store

    missing = postgres_server.rsplit("/", 1)[0] + "/no_such_database_here"
    with pytest.raises(connection.PostgresError) as caught:
        open_store(missing)
    assert not isinstance(caught.value, connection.PostgresUnreachable)
    assert "does not exist" in str(caught.value) and "[store] dsn" in caught.value.hint
    assert "error connecting" not in capsys.readouterr().err  # no pool warnings over the message


def test_a_server_that_refuses_connections_is_unreachable_not_a_pool_error() -> None:
    """Regression (review of the fast path above): pool.wait closes the pool when it times out,
    so a wait on it after the first short one raised a raw PoolClosed."""
    tgt = connection.Target("host=127.0.0.1 port=1 dbname=x user=x connect_timeout=3", None)
    with pytest.raises(connection.PostgresUnreachable, match="unreachable"):
        connection.open_pool(tgt)


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://cminbox@[::1/cminbox",  # an unclosed IPv6 host: was an internal error
        "postgres://cm inbox@@host:abc/db",  # passed `config check`, failed at use without a line
        "postgresql://cminbox@db.example.com:port/cminbox",
    ],
)
def test_a_dsn_that_cannot_be_parsed_is_a_config_error_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dsn: str
) -> None:
    """Regression (fault trial of 2026-12-01)."""
    path = tmp_path / "config.toml"
    path.write_text(f'[user]\nname = "ana"\n\n[store]\nbackend = "postgresql"\ndsn = "{dsn}"\n')
    code = cli.main(["--config", str(path), "config", "check"])
    said = capsys.readouterr().err
    assert code == cli.EXIT_CONFIG, said
    assert f"config error in {path}, line 6, key `store.dsn`: the DSN cannot be parsed" in said
    assert "internal error" not in said


def test_the_reason_a_dsn_cannot_be_parsed_never_quotes_it() -> None:
    problem = connection.dsn_problem("host=db user=ana sslmode='x password=hunter2-secret")
    assert problem is not None and "hunter2-secret" not in problem


def test_a_failing_password_command_is_called_by_its_key() -> None:
    """It was reported as "token_command for 'store' failed" (fault trial of 2026-12-01)."""
    from cminbox.core.secrets import SecretError

    cfg = config.parse(PG + 'dsn = "postgresql://ana@db.example.com/cminbox"\npassword_command = "false"\n').store
    with pytest.raises(SecretError) as caught:
        connection.store_password(cfg, Secrets())
    assert str(caught.value).startswith("password_command for 'store' failed with exit status 1")
