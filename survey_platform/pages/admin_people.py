"""The admin's room, people: every account, a new account, a change of role, name or activity.

Admins only; through ``accounts.service`` (the password policy, and sessions that end at once when an account is
deactivated or changes role). Assigning people to campaigns is on each campaign's page (``pages.admin``).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import Parameter
from litestar.response import Redirect, Template

from survey_platform.accounts.roles import ROLES
from survey_platform.accounts.service import Principal, create_account, list_accounts, update_account
from survey_platform.pages.forms import FORM, FormErrors, errors_from, read_form, text
from survey_platform.pages.i18n import translate
from survey_platform.pages.rendering import language_of, render
from survey_platform.pages.staff import ADMIN_GUARD, SIGNED_IN, link, staff_context
from survey_platform.settings import Settings
from survey_platform.storage.errors import DomainError

NEW_ACCOUNT_FIELDS = ("username", "display_name", "role", "password")


async def _people_page(
    request: Request[Any, Any, Any],
    principal: Principal,
    *,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    row_errors: tuple[int, FormErrors] | None = None,
    done: str = "",
    status_code: int = 200,
) -> Template:
    return render(
        request,
        "admin/people.html",
        status_code=status_code,
        **staff_context(request, principal),
        accounts=await list_accounts(),
        roles=ROLES,
        errors=errors or FormErrors(),
        values=values or {"role": "interviewer"},
        row_errors=row_errors,
        done=done,
    )


@get(
    "/admin/people",
    name="admin_people",
    guards=[ADMIN_GUARD],
    dependencies=SIGNED_IN,
    include_in_schema=False,
)
async def people_page(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    done: Annotated[str, Parameter(max_length=20)] = "",
) -> Template:
    """The accounts, and the form for a new one."""
    return await _people_page(request, principal, done=done)


@post(
    "/admin/people",
    name="admin_people_create",
    guards=[ADMIN_GUARD],
    dependencies=SIGNED_IN,
    opt=FORM,
    include_in_schema=False,
    status_code=303,
)
async def create_person(
    request: Request[Any, Any, Any], principal: NamedDependency[Principal]
) -> Response[Any]:
    """A new account (the password policy applies)."""
    form = await read_form(request)
    values = {name: text(form, name, 200) for name in ("username", "display_name", "role")}
    password = form.get("password")
    password = password if isinstance(password, str) else ""
    settings: Settings = request.app.state.settings
    language = language_of(request)
    if values["display_name"] and len(values["display_name"]) > 100:
        errors = FormErrors()
        errors.add("display_name", translate(language, "admin.people.invalid.display_name"))
        return await _people_page(request, principal, errors=errors, values=values, status_code=422)
    try:
        await create_account(
            values["username"],
            password[:128],
            values["role"],
            display_name=values["display_name"],
            iterations=settings.password_iterations,
            actor=principal,
        )
    except DomainError as error:
        errors = errors_from(error, language, NEW_ACCOUNT_FIELDS)
        return await _people_page(request, principal, errors=errors, values=values, status_code=error.status)
    return Redirect(link("/admin/people", {"done": "created"}), status_code=303)


@post(
    "/admin/people/{account_id:int}",
    name="admin_people_update",
    guards=[ADMIN_GUARD],
    dependencies=SIGNED_IN,
    opt=FORM,
    include_in_schema=False,
    status_code=303,
)
async def update_person(
    request: Request[Any, Any, Any],
    principal: NamedDependency[Principal],
    account_id: Annotated[int, Parameter(ge=1, le=2**31 - 1)],
) -> Response[Any]:
    """Change an account's role, display name or activity (a new role or a deactivation ends its sessions)."""
    form = await read_form(request)
    role = text(form, "role", 20) or None
    active = {"1": True, "0": False}.get(text(form, "active", 2))
    settings: Settings = request.app.state.settings
    try:
        await update_account(
            account_id,
            role=role,
            active=active,
            display_name=text(form, "display_name", 100) if "display_name" in form else None,
            iterations=settings.password_iterations,
            actor=principal,
        )
    except DomainError as error:
        if error.status == 404:
            raise
        errors = errors_from(error, language_of(request), ("role",))
        return await _people_page(
            request, principal, row_errors=(account_id, errors), status_code=error.status
        )
    return Redirect(link("/admin/people", {"done": "updated"}) + f"#account-{account_id}", status_code=303)


ROUTES = (people_page, create_person, update_person)
