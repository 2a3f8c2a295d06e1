"""Whether a host reaches only this machine: the one loopback test of the whole project."""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = frozenset({"localhost", "localhost."})  # resolved by the system, never the DNS


def is_loopback(host: str) -> bool:
    """True when `host` (a name, an address, or an IPv6 address in brackets) is this machine.

    Names other than localhost are not resolved: a name may point elsewhere tomorrow, so it
    counts as reachable from the network, as does "" (every address).
    """
    name = host.strip().lower()
    if name in LOOPBACK_NAMES:
        return True
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback  # ::ffff:127.0.0.1 is 127.0.0.1
    return address.is_loopback
