"""What kind of address an IP address is: the IANA Special-Purpose Address Registries (RFC 6890).

:func:`address_kind` says ``"public"`` or what an address is instead, from the
IANA IPv4 and IPv6 Special-Purpose Address Registries: loopback, private
(RFC 1918), shared / carrier-grade NAT (RFC 6598), link-local (RFC 3927,
RFC 4291), unique-local (RFC 4193), multicast, unspecified, broadcast,
documentation (RFC 5737, RFC 3849), benchmarking (RFC 2544), site-local and
reserved ranges, IPv4-mapped and IPv4-compatible IPv6 (RFC 4291 §2.5.5); a
6to4 (RFC 3056), Teredo (RFC 4380) or NAT64 (RFC 6052) address is judged by
the IPv4 address it embeds, Teredo is never public. Anything Python's
``ipaddress`` does not call global is ``"reserved"`` (fail closed).
"""

from __future__ import annotations

import ipaddress
from typing import Any

__all__ = ["PUBLIC", "LOOPBACK", "PRIVATE_KINDS", "address_kind"]

PUBLIC, LOOPBACK = "public", "loopback"
#: What an intranet deployment may allow (``FETCH_ALLOW_PRIVATE``); never link-local, never the rest.
PRIVATE_KINDS = frozenset({"private", "unique-local", "shared (carrier-grade NAT)"})


def _networks(*pairs: tuple[str, str]) -> tuple[tuple[Any, str], ...]:
    return tuple((ipaddress.ip_network(cidr), kind) for cidr, kind in pairs)


#: IANA IPv4 Special-Purpose Address Registry (RFC 6890 and updates); first match wins.
_IPV4 = _networks(
    ("127.0.0.0/8", LOOPBACK), ("0.0.0.0/8", "unspecified"), ("10.0.0.0/8", "private"), ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"), ("100.64.0.0/10", "shared (carrier-grade NAT)"), ("169.254.0.0/16", "link-local"),
    ("192.0.0.0/24", "reserved"), ("192.0.2.0/24", "documentation"), ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"), ("198.18.0.0/15", "benchmarking"), ("192.88.99.0/24", "reserved"),
    ("224.0.0.0/4", "multicast"), ("255.255.255.255/32", "broadcast"), ("240.0.0.0/4", "reserved"),
)
#: IANA IPv6 Special-Purpose Address Registry; the transition ranges that embed IPv4 are handled apart.
_IPV6 = _networks(
    ("::/128", "unspecified"), ("::1/128", LOOPBACK), ("::ffff:0:0/96", "IPv4-mapped"), ("::/96", "IPv4-compatible"),
    ("64:ff9b:1::/48", "reserved"), ("100::/64", "reserved"), ("2001:db8::/32", "documentation"),
    ("fc00::/7", "unique-local"), ("fe80::/10", "link-local"), ("fec0::/10", "site-local"), ("ff00::/8", "multicast"),
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def address_kind(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """``"public"``, or what the address is instead (``"loopback"``, ``"private"``, ``"link-local"``, …)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    table = _IPV4 if ip.version == 4 else _IPV6
    for network, kind in table:
        if ip in network:
            return kind
    if ip.version == 6:
        embedded = None
        if ip.sixtofour is not None:
            embedded, name = ip.sixtofour, "6to4"
        elif ip.teredo is not None:
            _, client = ip.teredo
            inner = address_kind(client)
            return f"Teredo embedding a {inner} address" if inner != PUBLIC else "Teredo"
        elif ip in _NAT64:
            embedded, name = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64"
        if embedded is not None:
            inner = address_kind(embedded)
            if inner != PUBLIC:
                return f"{name} embedding a {inner} address"
    return PUBLIC if ip.is_global else "reserved"
