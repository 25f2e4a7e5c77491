"""Server-side sessions and bearer tokens, kept in a Litestar store (memory, or Redis when configured).

A token is random; the store holds only its SHA-256. Changing an account's role or deactivating it bumps the
account's generation, which invalidates every session issued before.
"""

from __future__ import annotations

import hashlib
import secrets

import msgspec
from litestar.stores.base import Store

from survey_platform.accounts.service import Principal

COOKIE_NAME = "survey_session"


class _Session(msgspec.Struct):
    user_id: int
    username: str
    role: str
    generation: int


def _key(token: str) -> str:
    return "session:" + hashlib.sha256(token.encode()).hexdigest()


def _generation_key(user_id: int) -> str:
    return f"account-generation:{user_id}"


class SessionRegistry:
    """Issue, resolve and revoke session tokens."""

    def __init__(self, store: Store, ttl_seconds: int) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds

    async def _generation(self, user_id: int) -> int:
        raw = await self.store.get(_generation_key(user_id))
        return int(raw) if raw else 0

    async def issue(self, principal: Principal) -> str:
        token = secrets.token_urlsafe(32)
        session = _Session(
            principal.user_id, principal.username, principal.role, await self._generation(principal.user_id)
        )
        await self.store.set(_key(token), msgspec.json.encode(session), expires_in=self.ttl_seconds)
        return token

    async def resolve(self, token: str) -> Principal | None:
        if not token or len(token) > 200:
            return None
        raw = await self.store.get(_key(token))
        if raw is None:
            return None
        try:
            session = msgspec.json.decode(raw, type=_Session)
        except msgspec.DecodeError:
            return None
        if session.generation != await self._generation(session.user_id):
            return None
        return Principal(user_id=session.user_id, username=session.username, role=session.role)

    async def revoke(self, token: str) -> None:
        await self.store.delete(_key(token))

    async def revoke_all(self, user_id: int) -> None:
        """Invalidate every session of ``user_id`` (after a role change, deactivation or new password)."""
        generation = await self._generation(user_id)
        await self.store.set(_generation_key(user_id), str(generation + 1))
