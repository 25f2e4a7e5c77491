"""HTML forms of the staff pages: reading a submitted form, and errors shown beside the field that caused them.

A page route that takes a form is declared with ``opt=FORM`` (the application's body check then lets the
``application/x-www-form-urlencoded`` or ``multipart/form-data`` body through) and reads it with
:func:`read_form`, which refuses U+0000 like the JSON routes do. The services' errors name the fields they are
about by JSON path (``$.comment``, ``$.cities[3]``); :func:`errors_from` turns them into :class:`FormErrors` in the
visitor's language, keyed by form field, so a template can show each next to its field
(``partials/field_errors.html``) and list them all at the top (``partials/error_summary.html``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.exceptions import ClientException

from survey_platform.bodies import NUL_MESSAGE, split_path
from survey_platform.pages.messages import localise
from survey_platform.storage.errors import BadRequest, DomainError, FieldProblem, PayloadTooLarge

FORM: dict[str, Any] = {"form": True}  # the route option that marks a page route taking an HTML form
T = TypeVar("T")
_FIRST_FIELD = re.compile(r"^\$\.([A-Za-z0-9_]+)")


@dataclasses.dataclass
class FormErrors:
    """Messages (already in the visitor's language) about the whole form and about each field."""

    general: list[str] = dataclasses.field(default_factory=list)
    fields: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def add(self, field: str | None, message: str) -> None:
        if field is None:
            if message not in self.general:
                self.general.append(message)
        elif message not in self.fields.setdefault(field, []):
            self.fields[field].append(message)

    def of(self, field: str) -> list[str]:
        return self.fields.get(field, [])

    def __bool__(self) -> bool:
        return bool(self.general or self.fields)


def field_of(path: str) -> str | None:
    """The form field a problem's path points at: ``$.cities[3]`` → ``cities``, ``form:file`` → ``file``;
    None for the whole input (``$``) or a path that names no field."""
    if path.startswith("form:"):
        return path[5:].split("[", 1)[0] or None
    match = _FIRST_FIELD.match(path)
    return match.group(1) if match else None


def errors_from(error: DomainError, language: str, fields: Collection[str]) -> FormErrors:
    """A service's error as form errors: each problem beside its field when the form has it, else at the top; a
    problem-free error (e.g. a 409) at the top."""
    errors = FormErrors()
    for problem in error.errors:
        name = field_of(problem.path)
        errors.add(name if name in fields else None, localise(problem.message, language))
    if not error.errors:
        errors.add(None, localise(error.detail, language))
    return errors


async def read_form(request: Request[Any, Any, Any]) -> FormMultiDict:
    """The submitted form (parsed once: the CSRF check may have read it already); 400 for U+0000 in a text field,
    413 for a body over the route's limit."""
    try:
        form = await request.form()
    except ClientException as error:
        if error.status_code == 413:
            raise PayloadTooLarge(
                "上传的内容过大 / the upload is too large", (FieldProblem("$", "size", str(error.detail)),)
            ) from None
        raise BadRequest(
            "表单无法读取 / the form cannot be read",
            (FieldProblem("$", "malformed", str(error.detail)[:200]),),
        ) from None
    for name, value in form.multi_items():
        if "\x00" in name or (isinstance(value, str) and "\x00" in value):
            raise BadRequest(NUL_MESSAGE, (FieldProblem(f"form:{name[:60]}", "nul", NUL_MESSAGE),))
    return form


def text(form: FormMultiDict, name: str, max_length: int = 2000) -> str:
    """A text field's value, stripped, cut at ``max_length`` ("" when absent or a file)."""
    value = form.get(name)
    return value.strip()[:max_length] if isinstance(value, str) else ""


def texts(form: FormMultiDict, name: str) -> list[str]:
    """Every value of a repeated field (checkboxes), stripped, empty ones left out."""
    return [value.strip() for value in form.getall(name, []) if isinstance(value, str) and value.strip()]


def upload(form: FormMultiDict, name: str) -> UploadFile | None:
    value = form.get(name)
    return value if isinstance(value, UploadFile) and value.filename else None


def convert_form(
    values: Mapping[str, Any], record: type[T], messages: Mapping[str, str]
) -> tuple[T | None, FormErrors]:
    """``values`` (form text, numbers as text) as ``record``, or the error beside its field; ``messages`` holds
    what each field expects, in the visitor's language (the message for a field it lacks names the rule broken)."""
    errors = FormErrors()
    try:
        return msgspec.convert(dict(values), record, strict=False), errors
    except msgspec.ValidationError as error:
        path, reason = split_path(str(error))
        name = field_of(path or "$")
        errors.add(name, messages.get(name or "", reason))
        return None, errors


__all__ = [
    "FORM",
    "FormErrors",
    "convert_form",
    "errors_from",
    "field_of",
    "read_form",
    "text",
    "texts",
    "upload",
]
