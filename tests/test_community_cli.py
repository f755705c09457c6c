"""Community answers from the command line on the demo: a poll marks the advocate's answers
(and the team's, where it answered first), `people top` ranks her first, and `answer confirm`
/ `answer correct` do what the keys do, with --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cminbox.demo.session import demo_config_text
from tests.conftest import cli_env, run_cli

MIRA = "@mira@demo.lumen.community"


@pytest.fixture
def env(tmp_path: Path, demo_server: str) -> dict[str, str]:
    cfg = tmp_path / "config.toml"
    text = demo_config_text(demo_server, me="tester", token_command="printf demo-token")
    cfg.write_text(text + '\n[community]\nthank_you = "looking into it"\n')
    return cli_env(CMINBOX_CONFIG=str(cfg), CMINBOX_DATA_DIR=str(tmp_path / "data"))


def cli_json(env: dict[str, str], *args: str) -> object:
    result = run_cli(*args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_demo_advocate_is_marked_ranked_first_confirmed_and_corrected(env: dict[str, str]) -> None:
    assert run_cli("poll", "--once", env=env).returncode == 0
    community = cli_json(env, "list", "--query", "answered:community")
    staff = cli_json(env, "list", "--query", "answered:staff")
    assert isinstance(community, list) and isinstance(staff, list)
    assert len(community) >= 10 and len(staff) >= 5  # the demo has both kinds (demo/community.py)
    assert not {r["id"] for r in community} & {r["id"] for r in staff}

    top = cli_json(env, "people", "top", "--since", "30d")
    assert isinstance(top, dict)
    first = top["helpers"][0]
    assert first["handle"] == MIRA and first["answers"] >= 10 and first["confirmed"] == 0
    assert all(h["handle"] != "@noor@demo.lumen.community" for h in top["helpers"])  # staff is not ranked

    qid = str(community[0]["id"])
    done = cli_json(env, "answer", "confirm", qid, "--thank")
    assert isinstance(done, dict)
    assert done["status"] == "done" and done["answered"]["handle"] == MIRA and done["answered"]["confirmed_by"]
    assert done["thank_you"]["text"].startswith("Thanks for flagging")
    again = cli_json(env, "answer", "confirm", qid, "--thank")
    assert isinstance(again, dict) and again["thank_you"] is None  # thanked once
    top = cli_json(env, "people", "top", "--channel", "lumen")
    assert isinstance(top, dict) and top["helpers"][0]["confirmed"] == 1

    other = str(community[1]["id"])
    fixed = cli_json(env, "answer", "correct", other, "--text", "Official: it is in Settings.", "--quote")
    assert isinstance(fixed, dict) and fixed["text"].startswith("> Mira Okafor (@mira@demo.lumen.community) wrote: ")
    assert fixed["text"].endswith("Official: it is in Settings.")

    refused = run_cli("answer", "confirm", str(staff[0]["id"]), env=env)
    assert refused.returncode != 0 and "staff first" in refused.stderr


def test_people_top_text_and_a_bad_since(env: dict[str, str]) -> None:
    assert run_cli("poll", "--once", env=env).returncode == 0
    out = run_cli("people", "top", env=env)
    assert out.returncode == 0 and out.stdout.splitlines()[1].split()[:3] == ["1", "Mira", "Okafor"]
    bad = run_cli("people", "top", "--since", "soon", env=env)
    assert bad.returncode != 0 and "--since" in bad.stderr


def test_the_helpers_profile_shows_the_credit(env: dict[str, str]) -> None:
    assert run_cli("poll", "--once", env=env).returncode == 0
    [first] = cli_json(env, "list", "--query", "answered:community", "--limit", "1")  # type: ignore[misc]
    assert run_cli("answer", "confirm", str(first["id"]), env=env).returncode == 0
    card = cli_json(env, "people", "show", "lumen:mira@demo.lumen.community")
    assert isinstance(card, dict) and card["community_answers"]["confirmed"] == 1
    assert card["community_answers"]["answers"] >= 10
    shown = run_cli("people", "show", "lumen:mira@demo.lumen.community", env=env).stdout
    assert "community answers, 1 confirmed" in shown


def test_views_and_rules_take_the_field(tmp_path: Path, demo_server: str) -> None:
    cfg = tmp_path / "config.toml"
    text = demo_config_text(demo_server, me="tester", token_command="printf demo-token")
    cfg.write_text(
        text
        + '\n[[views]]\nkey = "7"\nname = "community"\nquery = "answered:community -status:done"\n'
        + '\n[[rules]]\nname = "thanked"\nwhen = "answered:community"\ntag = ["community"]\n'
    )
    env = cli_env(CMINBOX_CONFIG=str(cfg), CMINBOX_DATA_DIR=str(tmp_path / "data"))
    assert run_cli("config", "check", env=env).returncode == 0
    cfg.write_text(text + '\n[[views]]\nkey = "7"\nname = "x"\nquery = "answered:somebody"\n')
    bad = run_cli("config", "check", env=env)
    assert bad.returncode != 0 and "answered" in bad.stderr + bad.stdout
