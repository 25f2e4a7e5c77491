"""One-pass JSON request bodies for the submission routes, documented in OpenAPI like ``JSONBody``.

Litestar decodes a ``JSONBody[T]`` body to Python builtins and then converts those into ``T``. For the public
submission routes (a response; a batch of hundreds) the second pass costs as much as the first, so
:class:`OnePassBody` (a Litestar DTO used only for the request body) decodes the bytes straight into ``T`` with
msgspec, under the same non-strict rules Litestar applies (``strict=False``: ``"3"`` is accepted for an integer),
and reports failures as the app's other errors: 400 for unreadable JSON, 422 with the JSON path of a value that
breaks the schema. The OpenAPI schema of the body is Litestar's own for ``T``.

    @post("/things", dto=OnePassBody[Thing], return_dto=None)
    async def create(data: Thing) -> ...
"""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any, ClassVar, TypeVar

import msgspec
from litestar.dto import AbstractDTO
from litestar.dto._backend import DTOBackend
from litestar.dto.data_structures import DTOFieldDefinition
from litestar.openapi.spec import Reference, Schema
from litestar.typing import FieldDefinition

from survey_platform.storage.errors import BadRequest, FieldProblem, InvalidInput

T = TypeVar("T")
_AT_PATH = re.compile(r" - at `(?P<path>[^`]*)`$")


def split_path(message: str) -> tuple[str | None, str]:
    """(JSON path, reason) of a msgspec validation message (``"Expected `int` - at `$.a[0]`"``); path None when
    the message names none."""
    match = _AT_PATH.search(message)
    return (match.group("path"), message[: match.start()]) if match else (None, message)


def decode_error(error: msgspec.MsgspecError) -> BadRequest | InvalidInput:
    """The problem for a body msgspec could not decode: 422 with the field path, or 400 for unreadable JSON."""
    message = str(error)
    if isinstance(error, msgspec.ValidationError):
        path, message = split_path(message)
        path = path or "$"
        detail = "请求体不符合格式 / the request body does not match the schema"
        return InvalidInput(detail, (FieldProblem(path, "invalid", message[:500]),))
    detail = f"请求体不是有效的 JSON / the request body is not valid JSON: {message[:200]}"
    return BadRequest(detail, (FieldProblem("$", "malformed", message[:500]),))


# Text never contains U+0000: PostgreSQL's text and jsonb cannot store it (SQLite can), so it is refused on input,
# the same on both databases. JSON can only write it as the escape \u0000 (after an even run of backslashes).
NUL_MESSAGE = "文本不能包含 NUL 字符 / text must not contain the NUL character (U+0000)"
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def nul_path(value: Any, path: str = "$") -> str | None:
    """The JSON path of the first string (value or key) in decoded JSON ``value`` that contains U+0000."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return path
            if (found := nul_path(item, f"{path}.{key}")) is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if (found := nul_path(item, f"{path}[{index}]")) is not None:
                return found
    return None


def refuse_nul_in_json(body: bytes, root: str = "$") -> None:
    """Raise InvalidInput (422, naming the field) when the JSON text ``body`` has a string containing U+0000.

    One substring search for well-formed input; the body is decoded only to name the field. A body that is not
    valid JSON passes: its decoder reports that.
    """
    if b"\\u0000" not in body or _NUL_ESCAPE.search(body) is None:
        return
    try:
        path = nul_path(msgspec.json.decode(body), root)
    except (msgspec.DecodeError, RecursionError):
        return
    if path is not None:
        raise InvalidInput(NUL_MESSAGE, (FieldProblem(path, "nul", NUL_MESSAGE),))


class OnePassBody(AbstractDTO[T]):
    """A request-body-only DTO: ``decode_bytes`` is one ``msgspec.json.Decoder(T, strict=False)`` call."""

    _decoders: ClassVar[dict[type, msgspec.json.Decoder[Any]]] = {}

    @classmethod
    def _decoder(cls) -> msgspec.json.Decoder[Any]:
        decoder = OnePassBody._decoders.get(cls.model_type)
        if decoder is None:
            decoder = OnePassBody._decoders[cls.model_type] = msgspec.json.Decoder(
                cls.model_type, strict=False
            )
        return decoder

    def decode_bytes(self, value: bytes) -> Any:
        try:
            return self._decoder().decode(value)
        except msgspec.MsgspecError as error:
            raise decode_error(error) from None

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        try:
            return msgspec.convert(value, self.model_type, strict=False)
        except msgspec.MsgspecError as error:
            raise decode_error(error) from None

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: type[DTOBackend] | None = None
    ) -> None:
        if field_definition.name != "data":
            raise TypeError("OnePassBody decodes request bodies only: pass return_dto=None")
        if not field_definition.is_subclass_of(cls.model_type):
            raise TypeError(
                f"OnePassBody[{cls.model_type.__name__}] used for {field_definition.annotation!r}"
            )

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any
    ) -> Reference | Schema:
        return schema_creator.for_field_definition(  # type: ignore[no-any-return]
            FieldDefinition.from_annotation(
                cls.model_type, kwarg_definition=field_definition.kwarg_definition
            )
        )

    @classmethod
    def generate_field_definitions(cls, model_type: type[Any]) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()  # no transfer model: msgspec decodes into the type itself

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False


__all__ = ["NUL_MESSAGE", "OnePassBody", "decode_error", "nul_path", "refuse_nul_in_json", "split_path"]
