"""Server-side sessions and bearer tokens, kept in a Litestar store (memory, or Redis when configured).

A token is random; the store holds only its SHA-256. Each session records its account's session generation; a
request is accepted only while the account is active and its generation in the database is unchanged, so an
account that is deactivated, changes role or gets a new password loses every session at once, in every process
(``accounts.service.end_sessions``). The role a request acts with is the account's role now.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import msgspec
from litestar.stores.base import Store

from survey_platform.accounts.service import Principal, session_state

COOKIE_NAME = "survey_session"


class _Session(msgspec.Struct):
    user_id: int
    username: str
    generation: int


def _key(token: str) -> str:
    return "session:" + hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    """The CSRF token bound to a session: a one-way function of the session token.

    A page receives it in its HTML; a cross-site attacker can neither read the HttpOnly session cookie nor this
    page, so cannot compute it, and knowing it does not reveal the session token (SHA-256 preimage resistance).
    """
    return hashlib.sha256(b"survey-csrf\0" + session_token.encode()).hexdigest()


def csrf_matches(session_token: str, candidate: str) -> bool:
    return hmac.compare_digest(csrf_token(session_token), candidate)


class SessionRegistry:
    """Issue, resolve and revoke session tokens."""

    def __init__(self, store: Store, ttl_seconds: int) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds

    async def issue(self, principal: Principal) -> str:
        state = await session_state(principal.user_id)
        token = secrets.token_urlsafe(32)
        session = _Session(principal.user_id, principal.username, state.generation if state else -1)
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
        state = await session_state(session.user_id)
        if state is None or not state.active or state.generation != session.generation:
            return None
        return Principal(user_id=session.user_id, username=session.username, role=state.role)

    async def revoke(self, token: str) -> None:
        await self.store.delete(_key(token))
