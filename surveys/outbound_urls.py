"""Which URLs the service may call on a customer's behalf (webhooks, Slack, Teams): public only.

A URL a customer types could point the server at itself, its database, the cloud's metadata
service or the office network (server-side request forgery). Unless the operator allows
private targets (on-premise setups, tests), only addresses that are globally routable pass.
The check runs when the URL is saved and again on the address actually connected to, because
a name can resolve elsewhere later.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from surveys.errors import Invalid

ALLOWED_SCHEMES = ("https", "http")


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # is_global excludes private, loopback, link-local, shared (100.64/10), reserved,
    # unique-local and documentation ranges; multicast is global yet never a web server.
    return ip.is_global and not ip.is_multicast


def split_url(url: str) -> tuple[str, int]:
    """The host and port of a URL the service may call; Invalid if it is not one."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Invalid("url is not a valid URL", {"url": str(exc)}) from exc
    if parts.scheme not in ALLOWED_SCHEMES or not parts.hostname:
        raise Invalid("url must be an http or https URL with a host", {"url": url})
    if parts.username or parts.password:
        raise Invalid("url must not carry a user name or password", {"url": url})
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Invalid("url's host does not resolve", {"host": host}) from exc
    return sorted({info[4][0] for info in infos})


def check_public_url(url: str, allow_private: bool) -> list[str]:
    """Refuse a URL whose host resolves to any non-public address; return the addresses.

    Every address must be public, not just one: a client may connect to any of them.
    """
    host, port = split_url(url)
    addresses = resolve(host, port)
    if allow_private:
        return addresses
    refused = [a for a in addresses if not address_is_public(a)]
    if refused:
        raise Invalid(
            "url points to a private, loopback or link-local address",
            {"url": url, "addresses": refused},
        )
    return addresses
