"""A ruling by address range asks MongoDB only for the votes whose stored address text can be in
the range: the prefix must hold for every address of it, or a bot farm's votes would escape."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from wsis_voting.domain.invalidation import InvalidationRule


def _rule(network: str) -> InvalidationRule:
    return InvalidationRule(reason="one script, many accounts", ip_range=network)


hextets = st.sampled_from([0, 0, 0, 1, 0x2001, 0xDB8, 0xFFFF]) | st.integers(0, 0xFFFF)
ipv6 = st.lists(hextets, min_size=8, max_size=8).map(
    lambda h: ipaddress.IPv6Address(":".join(format(x, "x") for x in h))
)
ipv4 = st.integers(0, 2**32 - 1).map(ipaddress.IPv4Address)


@given(address=ipv4 | ipv6, bits=st.integers(0, 128), offset=st.integers(0, 2**128))
def test_every_address_of_the_range_begins_with_its_prefix(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, bits: int, offset: int
) -> None:
    network = ipaddress.ip_network((address, min(bits, address.max_prefixlen)), strict=False)
    inside = ipaddress.ip_address(int(network.network_address) + offset % network.num_addresses)
    prefix = _rule(str(network)).ip_text_prefix()
    if prefix is not None:
        assert str(inside).startswith(prefix)


def test_the_prefix_narrows_what_is_read() -> None:
    assert _rule("203.0.113.0/24").ip_text_prefix() == "203.0.113."
    assert _rule("203.0.112.0/20").ip_text_prefix() == "203.0."
    assert _rule("198.51.100.7/32").ip_text_prefix() == "198.51.100.7"
    assert _rule("2001:db8:abcd:12::/64").ip_text_prefix() == "2001:db8:abcd:12:"
    assert _rule("2001:db8::/32").ip_text_prefix() == "2001:db8:"
    assert _rule("0.0.0.0/0").ip_text_prefix() is None
