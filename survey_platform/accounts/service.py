"""Accounts: Piccolo users (hashed passwords) with one platform role each.

Sessions end at once in every process when an account is deactivated, changes role or gets a new password: each
session records the account's ``session_generation`` when issued, every request compares it with the database's
(:func:`session_state`), and those changes increment it.
"""

from __future__ import annotations

import asyncio
import hmac
import re

import msgspec
from piccolo.apps.user.tables import BaseUser

from survey_platform.accounts.passwords import password_problem
from survey_platform.accounts.roles import ROLES, Role
from survey_platform.storage import audit_log
from survey_platform.storage.errors import Conflict, FieldProblem, InvalidInput, NotFound, Unauthorized
from survey_platform.storage.tables import AccountRole, CampaignAssignment

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{3,100}$")


class Principal(msgspec.Struct, frozen=True):
    """Who is making a request."""

    user_id: int
    username: str
    role: Role


class Account(msgspec.Struct):
    id: int
    username: str
    role: Role
    display_name: str
    active: bool


class SessionState(msgspec.Struct, frozen=True):
    """What a session is checked against on every request: the account as it is now."""

    role: Role
    active: bool
    generation: int


def _role_problem(role: str) -> FieldProblem | None:
    if role in ROLES:
        return None
    return FieldProblem("$.role", "enum", f"角色须为 / role must be one of {', '.join(ROLES)}")


def check_new_account(username: str, password: str, role: str) -> tuple[FieldProblem, ...]:
    """Every problem with a requested account (pure)."""
    problems: list[FieldProblem] = []
    if not USERNAME_PATTERN.match(username):
        problems.append(
            FieldProblem(
                "$.username", "pattern", "用户名需 3–100 个字母、数字或 _.@- / 3–100 letters, digits or _.@-"
            )
        )
    problems.extend(check_password(password, username))
    if (problem := _role_problem(role)) is not None:
        problems.append(problem)
    return tuple(problems)


def check_password(password: str, username: str = "", path: str = "$.password") -> tuple[FieldProblem, ...]:
    """The password policy's verdict (:mod:`survey_platform.accounts.passwords`) as field problems."""
    problem = password_problem(password, username)
    return () if problem is None else (FieldProblem(path, "password", problem),)


async def hash_password(password: str, iterations: int) -> str:
    """Piccolo's PBKDF2 hash, computed off the event loop."""
    return await asyncio.to_thread(BaseUser.hash_password, password, "", iterations)


def _actor(actor: Principal | None) -> dict[str, object]:
    return {"actor_id": actor.user_id if actor else None, "actor": actor.username if actor else "system"}


async def create_account(
    username: str,
    password: str,
    role: str,
    *,
    display_name: str = "",
    email: str | None = None,
    iterations: int = BaseUser._pbkdf2_iteration_count,
    actor: Principal | None = None,
) -> Account:
    problems = check_new_account(username, password, role)
    if problems:
        raise InvalidInput("账户信息无效 / invalid account", problems)
    if await BaseUser.exists().where(BaseUser.username == username).run():
        raise Conflict(f"用户名已存在 / username {username!r} is taken")
    hashed = await hash_password(password, iterations)
    async with BaseUser._meta.db.transaction():
        user = BaseUser(
            username=username,
            password=hashed,
            email=email or f"{username}@accounts.invalid",
            active=True,
            admin=role == "admin",
        )
        await user.save().run()
        await AccountRole.insert(AccountRole(user=user.id, role=role, display_name=display_name)).run()
    await audit_log.record(
        **_actor(actor),
        action="account.create",
        entity="account",
        entity_id=user.id,
        detail={"username": username, "role": role},
    )
    return Account(id=user.id, username=username, role=role, display_name=display_name, active=True)


async def _password_matches(stored: str, password: str) -> bool:
    _, stored_iterations, salt, _ = BaseUser.split_stored_password(stored)
    candidate = await asyncio.to_thread(BaseUser.hash_password, password, salt, int(stored_iterations))
    return hmac.compare_digest(candidate, stored)


async def authenticate(username: str, password: str, iterations: int) -> Principal | None:
    """The principal for valid credentials of an active account, else None (constant work either way)."""
    if len(username) > 100 or len(password) > BaseUser._max_password_length:
        return None
    row = (
        await BaseUser.select(BaseUser.id, BaseUser.password, BaseUser.active)
        .where(BaseUser.username == username)
        .first()
        .run()
    )
    if row is None:
        await asyncio.to_thread(BaseUser.hash_password, password, "", iterations)
        return None
    if not await _password_matches(row["password"], password) or not row["active"]:
        return None
    role_row = await AccountRole.select(AccountRole.role).where(AccountRole.user == row["id"]).first().run()
    if role_row is None:
        return None
    return Principal(user_id=row["id"], username=username, role=role_row["role"])


async def session_state(user_id: int) -> SessionState | None:
    """The account's current role, active flag and session generation (one indexed query), or None if gone."""
    row = (
        await AccountRole.select(AccountRole.role, AccountRole.session_generation, AccountRole.user.active)
        .where(AccountRole.user == user_id)
        .first()
        .run()
    )
    if row is None:
        return None
    return SessionState(row["role"], bool(row["user.active"]), int(row["session_generation"]))


async def end_sessions(user_id: int) -> None:
    """End every session of the account, in every process (the next request of each is refused)."""
    await (
        AccountRole.update({AccountRole.session_generation: AccountRole.session_generation + 1})
        .where(AccountRole.user == user_id)
        .run()
    )


async def list_accounts() -> list[Account]:
    rows = (
        await AccountRole.select(
            AccountRole.user.id,
            AccountRole.user.username,
            AccountRole.user.active,
            AccountRole.role,
            AccountRole.display_name,
        )
        .order_by(AccountRole.user.id)
        .run()
    )
    return [
        Account(
            id=row["user.id"],
            username=row["user.username"],
            role=row["role"],
            display_name=row["display_name"],
            active=bool(row["user.active"]),
        )
        for row in rows
    ]


async def accounts_by_id(user_ids: list[int]) -> dict[int, Account]:
    """The accounts among ``user_ids`` that exist."""
    if not user_ids:
        return {}
    rows = (
        await AccountRole.select(
            AccountRole.user.id,
            AccountRole.user.username,
            AccountRole.user.active,
            AccountRole.role,
            AccountRole.display_name,
        )
        .where(AccountRole.user.is_in(user_ids))
        .run()
    )
    return {
        row["user.id"]: Account(
            id=row["user.id"],
            username=row["user.username"],
            role=row["role"],
            display_name=row["display_name"],
            active=bool(row["user.active"]),
        )
        for row in rows
    }


async def get_account(user_id: int) -> Account:
    found = await accounts_by_id([user_id])
    if user_id not in found:
        raise NotFound(f"账户 {user_id} 不存在 / account {user_id} does not exist")
    return found[user_id]


async def account_id(username: str) -> int:
    """The id of the account called ``username`` (NotFound naming it otherwise)."""
    row = await BaseUser.select(BaseUser.id).where(BaseUser.username == username).first().run()
    if row is None:
        raise NotFound(f"账户 {username!r} 不存在 / account {username!r} does not exist")
    return int(row["id"])


async def update_account(
    user_id: int,
    *,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
    display_name: str | None = None,
    iterations: int = BaseUser._pbkdf2_iteration_count,
    actor: Principal | None = None,
) -> Account:
    """Change an account (admin); a new role, deactivation or a new password ends its sessions at once."""
    account = await get_account(user_id)
    problems: list[FieldProblem] = []
    if role is not None and (problem := _role_problem(role)) is not None:
        problems.append(problem)
    if password is not None:
        problems.extend(check_password(password, account.username))
    if problems:
        raise InvalidInput("账户信息无效 / invalid account", tuple(problems))
    user_values: dict[object, object] = {}
    if active is not None:
        user_values[BaseUser.active] = active
    if password is not None:
        user_values[BaseUser.password] = await hash_password(password, iterations)
    if role is not None:
        user_values[BaseUser.admin] = role == "admin"
    role_values: dict[object, object] = {}
    if role is not None:
        role_values[AccountRole.role] = role
    if display_name is not None:
        role_values[AccountRole.display_name] = display_name
    if role is not None or active is False or password is not None:
        role_values[AccountRole.session_generation] = AccountRole.session_generation + 1
    async with BaseUser._meta.db.transaction():
        if user_values:
            await BaseUser.update(user_values).where(BaseUser.id == user_id).run()
        if role_values:
            await AccountRole.update(role_values).where(AccountRole.user == user_id).run()
        if role is not None and role != account.role:
            # assignments were made for the old role: a new reviewer must not review what they collected
            await CampaignAssignment.delete().where(CampaignAssignment.account == user_id).run()
    changed = {
        "role": role,
        "active": active,
        "password_changed": password is not None,
        "display_name": display_name,
    }
    await audit_log.record(
        **_actor(actor),
        action="account.update",
        entity="account",
        entity_id=user_id,
        detail={key: value for key, value in changed.items() if value not in (None, False)}
        | ({"active": False} if active is False else {}),
    )
    return await get_account(user_id)


async def change_own_password(
    principal: Principal, old_password: str, new_password: str, iterations: int
) -> None:
    """The signed-in user's new password (the current one is required); every session of the account ends."""
    row = await BaseUser.select(BaseUser.password).where(BaseUser.id == principal.user_id).first().run()
    if row is None:
        raise Unauthorized("需要登录 / sign-in required")
    if not await _password_matches(row["password"], old_password):
        raise InvalidInput(
            "当前密码不正确 / the current password is wrong",
            (FieldProblem("$.old_password", "mismatch", "当前密码不正确 / the current password is wrong"),),
        )
    problems = check_password(new_password, principal.username, "$.new_password")
    if not problems and new_password == old_password:
        problems = (
            FieldProblem(
                "$.new_password", "unchanged", "新密码须与当前密码不同 / choose a different password"
            ),
        )
    if problems:
        raise InvalidInput("新密码不符合要求 / the new password is not acceptable", problems)
    hashed = await hash_password(new_password, iterations)
    async with BaseUser._meta.db.transaction():
        await BaseUser.update({BaseUser.password: hashed}).where(BaseUser.id == principal.user_id).run()
        await end_sessions(principal.user_id)
    await audit_log.record(
        **_actor(principal),
        action="account.password",
        entity="account",
        entity_id=principal.user_id,
        detail={"own": True},
    )
