"""The client's address behind trusted reverse proxies, and the salted hash that stands for it.

Behind a reverse proxy every request comes from the proxy's address. Only proxies named in
``SURVEY_TRUSTED_PROXIES`` are believed, and only in the one header they write (``SURVEY_PROXY_HEADER``:
``x-forwarded-for``, the default, with ``X-Forwarded-Proto``; or ``forwarded``, RFC 7239 ``for=``/``proto=``): when
the direct peer is a trusted proxy, the client is the right-most address in that header that is not itself a trusted
proxy. A proxy appends to its header and passes every other header through untouched, so the other header is the
client's own writing and is never read; a node that is not an IP address (``unknown``, an obfuscated name) makes the
client unknown, and the proxy's own address is used. Headers from any other peer are ignored.
:class:`ClientAddressMiddleware` puts the result in the ASGI scope's ``client``, so rate limits and everything else
see the same address. The address itself is never stored: limits use :meth:`AddressHasher.key`, a salted SHA-256.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable, Sequence
from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_FOR = re.compile(r'for\s*=\s*("?)(?P<node>[^";,]+)\1', re.IGNORECASE)
_PROTO = re.compile(r"proto\s*=\s*\"?(?P<proto>https?)\b", re.IGNORECASE)


class ProxyConfigError(ValueError):
    """A trusted-proxy entry that is neither an IP address nor a network."""


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """``"10.0.0.1, 192.168.0.0/16, ::1"`` → networks; raises :class:`ProxyConfigError` naming a bad entry."""
    networks: list[IPNetwork] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ProxyConfigError(f"{entry!r} is not an IP address or network (e.g. 10.0.0.0/8)") from None
    return tuple(networks)


def _address(node: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address from a header node (``1.2.3.4``, ``1.2.3.4:5678``, ``[2001:db8::1]:80``), else None."""
    node = node.strip()
    if node.startswith("["):
        node = node[1 : node.find("]")] if "]" in node else node[1:]
    elif node.count(":") == 1:
        node = node.split(":", 1)[0]
    try:
        return ipaddress.ip_address(node)
    except ValueError:
        return None


def _trusted(address: str | None, networks: Sequence[IPNetwork]) -> bool:
    if address is None:
        return False
    parsed = _address(address)
    return parsed is not None and any(parsed in network for network in networks)


PROXY_HEADERS: tuple[str, ...] = ("x-forwarded-for", "forwarded")


def forwarded_chain(headers: Iterable[tuple[bytes, bytes]], header: str = "x-forwarded-for") -> list[str]:
    """The forwarding chain in ``header`` (every occurrence, in order), client first."""
    name = header.encode()
    chain: list[str] = []
    for key, value in headers:
        if key != name:
            continue
        text = value.decode("latin-1")
        if header == "forwarded":
            chain.extend(m.group("node") for m in _FOR.finditer(text))
        else:
            chain.extend(part.strip() for part in text.split(",") if part.strip())
    return chain


def client_address(
    peer: str | None,
    headers: Iterable[tuple[bytes, bytes]],
    trusted: Sequence[IPNetwork],
    header: str = "x-forwarded-for",
) -> str | None:
    """The client's address: the peer, unless the peer is a trusted proxy (then walk ``header``'s chain from the
    right past the trusted proxies; a node that is not an IP address gives the peer)."""
    if not trusted or not _trusted(peer, trusted):
        return peer
    for node in reversed(forwarded_chain(headers, header)):
        parsed = _address(node)
        if parsed is None:
            return peer
        if not any(parsed in network for network in trusted):
            return str(parsed)
    return peer


def forwarded_scheme(headers: Iterable[tuple[bytes, bytes]], header: str = "x-forwarded-for") -> str | None:
    """The scheme the client used as the trusted proxy saw it: ``Forwarded`` ``proto=`` (with ``forwarded``) or
    ``X-Forwarded-Proto`` (with ``x-forwarded-for``), the last value."""
    scheme = None
    for name, value in headers:
        text = value.decode("latin-1")
        if header == "forwarded" and name == b"forwarded":
            found = _PROTO.findall(text)
            scheme = found[-1].lower() if found else scheme
        elif header == "x-forwarded-for" and name == b"x-forwarded-proto":
            last = text.split(",")[-1].strip().lower()
            scheme = last if last in ("http", "https") else scheme
    return scheme


class ClientAddressMiddleware:
    """ASGI middleware: the client's address (and scheme) as seen behind trusted proxies, in the ASGI scope."""

    def __init__(self, app: Any, trusted: Sequence[IPNetwork], header: str = "x-forwarded-for") -> None:
        self.app = app
        self.trusted = tuple(trusted)
        self.header = header

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self.trusted and scope["type"] in ("http", "websocket"):
            peer = scope.get("client")
            if _trusted(peer[0] if peer else None, self.trusted):
                headers = scope.get("headers", ())
                host = client_address(peer[0], headers, self.trusted, self.header)  # type: ignore[index]
                scheme = forwarded_scheme(headers, self.header)
                scope = {**scope, "client": (host, 0)}
                if scheme is not None and scope["type"] == "http":
                    scope["scheme"] = scheme
        await self.app(scope, receive, send)


class AddressHasher:
    """Salted hashes of client addresses (rate-limit keys); the salt is per deployment and never logged."""

    def __init__(self, salt: str) -> None:
        self.salt = salt

    def key(self, scope: dict[str, Any]) -> str:
        client = scope.get("client")
        host = client[0] if client else "unknown"
        return hashlib.sha256((self.salt + host).encode()).hexdigest()[:32]


__all__ = [
    "PROXY_HEADERS",
    "AddressHasher",
    "ClientAddressMiddleware",
    "ProxyConfigError",
    "client_address",
    "forwarded_chain",
    "forwarded_scheme",
    "parse_networks",
]
