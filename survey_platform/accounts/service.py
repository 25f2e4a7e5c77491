"""Accounts: Piccolo users (hashed passwords) with one platform role each."""

from __future__ import annotations

import asyncio
import hmac
import re

import msgspec
from piccolo.apps.user.tables import BaseUser

from survey_platform.storage import audit_log
from survey_platform.storage.errors import Conflict, FieldProblem, InvalidInput, NotFound
from survey_platform.storage.tables import ROLES, AccountRole

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{3,100}$")


class Principal(msgspec.Struct, frozen=True):
    """Who is making a request."""

    user_id: int
    username: str
    role: str


class Account(msgspec.Struct):
    id: int
    username: str
    role: str
    display_name: str
    active: bool


def check_new_account(username: str, password: str, role: str) -> tuple[FieldProblem, ...]:
    """Every problem with a requested account (pure)."""
    problems: list[FieldProblem] = []
    if not USERNAME_PATTERN.match(username):
        problems.append(
            FieldProblem(
                "$.username", "pattern", "用户名需 3–100 个字母、数字或 _.@- / 3–100 letters, digits or _.@-"
            )
        )
    problems.extend(check_password(password))
    if role not in ROLES:
        problems.append(FieldProblem("$.role", "enum", f"角色须为 / role must be one of {', '.join(ROLES)}"))
    return tuple(problems)


def check_password(password: str, path: str = "$.password") -> tuple[FieldProblem, ...]:
    try:
        BaseUser._validate_password(password)
    except ValueError as error:
        return (FieldProblem(path, "password", f"密码不符合要求 / {error}"),)
    return ()


async def hash_password(password: str, iterations: int) -> str:
    """Piccolo's PBKDF2 hash, computed off the event loop."""
    return await asyncio.to_thread(BaseUser.hash_password, password, "", iterations)


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
        actor_id=actor.user_id if actor else None,
        actor=actor.username if actor else "system",
        action="account.create",
        entity="account",
        entity_id=user.id,
        detail={"username": username, "role": role},
    )
    return Account(id=user.id, username=username, role=role, display_name=display_name, active=True)


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
    _, stored_iterations, salt, _ = BaseUser.split_stored_password(row["password"])
    candidate = await asyncio.to_thread(BaseUser.hash_password, password, salt, int(stored_iterations))
    if not hmac.compare_digest(candidate, row["password"]) or not row["active"]:
        return None
    role_row = await AccountRole.select(AccountRole.role).where(AccountRole.user == row["id"]).first().run()
    if role_row is None:
        return None
    return Principal(user_id=row["id"], username=username, role=role_row["role"])


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


async def get_account(user_id: int) -> Account:
    for account in await list_accounts():
        if account.id == user_id:
            return account
    raise NotFound(f"账户不存在 / account {user_id} not found")


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
    account = await get_account(user_id)
    problems: list[FieldProblem] = []
    if role is not None and role not in ROLES:
        problems.append(FieldProblem("$.role", "enum", f"角色须为 / role must be one of {', '.join(ROLES)}"))
    if password is not None:
        problems.extend(check_password(password))
    if problems:
        raise InvalidInput("账户信息无效 / invalid account", tuple(problems))
    user_values: dict[object, object] = {}
    if active is not None:
        user_values[BaseUser.active] = active
    if password is not None:
        user_values[BaseUser.password] = await hash_password(password, iterations)
    if role is not None:
        user_values[BaseUser.admin] = role == "admin"
    async with BaseUser._meta.db.transaction():
        if user_values:
            await BaseUser.update(user_values).where(BaseUser.id == user_id).run()
        role_values: dict[object, object] = {}
        if role is not None:
            role_values[AccountRole.role] = role
        if display_name is not None:
            role_values[AccountRole.display_name] = display_name
        if role_values:
            await AccountRole.update(role_values).where(AccountRole.user == user_id).run()
    changed = {
        "role": role,
        "active": active,
        "password_changed": password is not None,
        "display_name": display_name,
    }
    await audit_log.record(
        actor_id=actor.user_id if actor else None,
        actor=actor.username if actor else "system",
        action="account.update",
        entity="account",
        entity_id=user_id,
        detail={key: value for key, value in changed.items() if value not in (None, False)},
    )
    del account
    return await get_account(user_id)
