"""The client address a rate limit is keyed by: the socket peer, or X-Forwarded-For from a trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> list[Network]:
    """CIDRs (a bare address is a /32 or /128); ValueError names the first bad entry."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or CIDR") from None
    return networks


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """The address that sent the request.

    Only a trusted proxy's X-Forwarded-For is read, and from the right: each proxy appends the address
    it saw, so the rightmost entry that is not one of our proxies is the first one a client could not
    have written itself. Entries further left are the client's own claims and are ignored.
    """
    if not peer:
        return "unknown"
    if not trusted or not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop[:64]
    return hops[0][:64] if hops else peer


def address_key(address: str) -> str:
    """What an address is counted as: an IPv4 address alone, an IPv6 address by its /64, since one
    customer line or host commonly holds a whole /64 and could otherwise rotate through it."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
