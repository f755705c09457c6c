"""What an IMAP server answers to UID SEARCH is checked, not trusted (review of 2026-12-02):
"NO [SERVERBUG]" and a token that is not a UID were "internal error (ValueError)" on every
poll; a refused search also read as "no mail found"."""

from __future__ import annotations

from typing import Any

import pytest

from cminbox.channels.mail import _uids
from cminbox.core.channel import BadResponse


@pytest.mark.parametrize(
    ("answer", "uids"),
    [
        (("OK", [b"1 2 3"]), [1, 2, 3]),
        (("OK", [b""]), []),
        (("OK", [None]), []),
        (("OK", [b"4", b"5 6"]), [4, 5, 6]),
        (("OK", []), []),
    ],
)
def test_a_search_answer_is_its_uids(answer: tuple[str, list[Any]], uids: list[int]) -> None:
    assert _uids(answer, "new mail") == uids


@pytest.mark.parametrize(
    "answer",
    [
        ("NO", [b"[SERVERBUG] search failed"]),
        ("BAD", [b"nope"]),
        ("OK", [b"[SERVERBUG]"]),
        ("OK", [b"abc"]),
        ("OK", [b"1 \xb2"]),  # a digit to str.isdigit, not to int()
        ("OK", [b"-1"]),
        ("OK", [b"99999999999999999999999"]),
        ("OK", ["1 2"]),  # not bytes
        ("OK", [("1", b"2")]),
    ],
)
def test_a_refused_or_garbled_search_is_the_server_s_bad_answer(answer: tuple[str, list[Any]]) -> None:
    with pytest.raises(BadResponse) as caught:
        _uids(answer, "new mail")
    assert caught.value.reason.startswith("new mail: the server")
