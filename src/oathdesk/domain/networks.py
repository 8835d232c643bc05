"""The client network a failure counts against: one IPv4 address, or one IPv6 /64.

Why a network and not an address: an IPv6 host usually owns a whole /64 (SLAAC, privacy
addresses) and can change address at every request, so counting per IPv6 address would give one
attacker billions of fresh counters. A /64 is what one site or one customer line gets, so it is
the smallest unit an attacker cannot multiply for free. An IPv4 address is kept whole: a /24
would throw many unrelated customers behind one counter. An IPv4 address written as IPv6
(``::ffff:192.0.2.7``, what a dual-stack socket reports) is the IPv4 address it maps.
"""

from __future__ import annotations

import ipaddress

IPV6_PREFIX = 64


def client_network(address: str) -> str:
    """``address``'s network as text: ``192.0.2.7`` stays ``192.0.2.7``, ``2001:db8:1:2:a::1``
    becomes ``2001:db8:1:2::/64``; anything that is not an IP address (``unknown``, a Unix
    socket) is kept as typed, lower-cased and trimmed, so it still has a counter of its own."""
    text = address.strip()
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])  # a zone id (fe80::1%eth0) is dropped
    except ValueError:
        return text.lower()[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)
