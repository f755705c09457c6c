"""core/internal_hosts.py: every spelling of an address the resolver accepts is judged the same."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from cminbox.core.internal_hosts import is_internal_host

ipv4 = st.integers(min_value=0, max_value=2**32 - 1).map(ipaddress.IPv4Address)


@given(ipv4)
def test_every_spelling_of_an_ipv4_address_is_judged_alike(ip: ipaddress.IPv4Address) -> None:
    expected = not ip.is_global or ip.is_multicast
    a, b, c, d = ip.packed
    spellings = [
        str(ip),
        str(int(ip)),  # one number
        hex(int(ip)),
        f"{a}.{(b << 16) | (c << 8) | d}",  # two parts
        f"{a:#x}.{b:#x}.{c:#x}.{d:#x}",
        f"[::ffff:{ip}]",
        f"{ip}.",  # a trailing dot
    ]
    assert {s: is_internal_host(s) for s in spellings} == {s: expected for s in spellings}


@given(st.from_regex(r"[a-z][a-z0-9-]{0,20}\.(com|org|net|example|social)", fullmatch=True))
def test_a_dotted_public_name_is_not_internal(name: str) -> None:
    assert not is_internal_host(name)
    assert is_internal_host(name.split(".")[0])  # one label: a search-domain name
    assert is_internal_host(f"{name}.localhost") and is_internal_host(name.replace(".", "-") + ".local")


def test_public_and_internal_examples() -> None:
    assert not is_internal_host("8.8.8.8") and not is_internal_host("[2606:4700::1111]")
    for host in ("", "0", "127.1", "LOCALHOST", "::", "[fe80::1]", "100.64.0.1", "224.0.0.1", "x.home.arpa"):
        assert is_internal_host(host), host
