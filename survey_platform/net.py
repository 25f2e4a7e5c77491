"""The client's address behind trusted reverse proxies, and the salted hash that stands for it.

Behind a reverse proxy every request comes from the proxy's address. Only proxies named in
``SURVEY_TRUSTED_PROXIES`` are believed: when the direct peer is one of them, the client is the right-most address in
``Forwarded`` (RFC 7239 ``for=``) or, without it, ``X-Forwarded-For`` that is not itself a trusted proxy. Headers
from any other peer are ignored (anyone can write them). :class:`ClientAddressMiddleware` puts the result in the ASGI
scope's ``client``, so rate limits and everything else see the same address. The address itself is never stored:
limits use :meth:`AddressHasher.key`, a salted SHA-256.
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


def forwarded_chain(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    """The forwarding chain, client first: ``Forwarded`` ``for=`` nodes, or else ``X-Forwarded-For`` entries."""
    forwarded: list[str] = []
    x_forwarded: list[str] = []
    for name, value in headers:
        if name == b"forwarded":
            forwarded.extend(m.group("node") for m in _FOR.finditer(value.decode("latin-1")))
        elif name == b"x-forwarded-for":
            x_forwarded.extend(part.strip() for part in value.decode("latin-1").split(",") if part.strip())
    return forwarded or x_forwarded


def client_address(
    peer: str | None, headers: Iterable[tuple[bytes, bytes]], trusted: Sequence[IPNetwork]
) -> str | None:
    """The client's address: the peer, unless the peer is a trusted proxy (then walk the forwarding chain)."""
    if not trusted or not _trusted(peer, trusted):
        return peer
    chain = forwarded_chain(headers)
    for node in reversed(chain):
        if not _trusted(node, trusted):
            parsed = _address(node)
            return str(parsed) if parsed is not None else node[:100]
    return str(_address(chain[0])) if chain and _address(chain[0]) else peer


def forwarded_scheme(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The scheme the client used, from ``Forwarded`` ``proto=`` or ``X-Forwarded-Proto`` (last hop's view)."""
    scheme = None
    for name, value in headers:
        if name == b"forwarded":
            found = _PROTO.findall(value.decode("latin-1"))
            scheme = found[-1].lower() if found else scheme
        elif name == b"x-forwarded-proto" and scheme is None:
            last = value.decode("latin-1").split(",")[-1].strip().lower()
            scheme = last if last in ("http", "https") else None
    return scheme


class ClientAddressMiddleware:
    """ASGI middleware: the client's address (and scheme) as seen behind trusted proxies, in the ASGI scope."""

    def __init__(self, app: Any, trusted: Sequence[IPNetwork]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self.trusted and scope["type"] in ("http", "websocket"):
            peer = scope.get("client")
            if _trusted(peer[0] if peer else None, self.trusted):
                headers = scope.get("headers", ())
                host = client_address(peer[0], headers, self.trusted)  # type: ignore[index]
                scheme = forwarded_scheme(headers)
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
    "AddressHasher",
    "ClientAddressMiddleware",
    "ProxyConfigError",
    "client_address",
    "forwarded_chain",
    "forwarded_scheme",
    "parse_networks",
]
