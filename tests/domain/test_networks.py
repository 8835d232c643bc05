"""A failure counts against the client's network: an IPv4 address whole, an IPv6 /64, an
IPv4-mapped IPv6 address as the IPv4 address it is."""

from __future__ import annotations

import pytest

from oathdesk.domain.networks import client_network


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("192.0.2.7", "192.0.2.7"),
        (" 192.0.2.7 ", "192.0.2.7"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::1", "::/64"),
        ("unknown", "unknown"),
        ("Some.Socket", "some.socket"),
    ],
)
def test_client_network(address: str, network: str) -> None:
    assert client_network(address) == network


def test_every_address_of_one_64_is_one_network_and_the_next_64_another() -> None:
    inside = {client_network(f"2001:db8:bad:1:{i:x}::{i:x}") for i in range(1, 500)}
    assert inside == {"2001:db8:bad:1::/64"}
    assert client_network("2001:db8:bad:2::1") != client_network("2001:db8:bad:1::1")


def test_ipv4_addresses_are_never_grouped() -> None:
    assert client_network("198.51.100.1") != client_network("198.51.100.2")
