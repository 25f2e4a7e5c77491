"""Questionnaire versions: registration of the YAML files at start, and the parsed versions by id.

Every distinct file content is one immutable row (its SHA-256 is unique); a changed file becomes a new row
with the next revision. Parsed questionnaires are cached by version id (rows never change).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
from pathlib import Path

from survey_platform.campaigns.schemas import QuestionnaireVersionDetail, QuestionnaireVersionSummary
from survey_platform.questionnaire import Questionnaire, load_questionnaire, load_text
from survey_platform.questionnaire.load import questionnaire_files
from survey_platform.storage import audit_log
from survey_platform.storage.errors import NotFound
from survey_platform.storage.tables import QuestionnaireVersion

logger = logging.getLogger(__name__)

SUMMARY_COLUMNS = (
    QuestionnaireVersion.id,
    QuestionnaireVersion.questionnaire_id,
    QuestionnaireVersion.version,
    QuestionnaireVersion.revision,
    QuestionnaireVersion.kind,
    QuestionnaireVersion.title,
    QuestionnaireVersion.content_hash,
    QuestionnaireVersion.registered_at,
)


@dataclasses.dataclass(frozen=True, slots=True)
class Registration:
    """What happened to one file at registration."""

    path: str
    version_id: int | None
    created: bool
    problems: tuple[str, ...] = ()


class QuestionnaireCatalog:
    """Registered questionnaire versions, parsed on first use and cached."""

    def __init__(self) -> None:
        self._parsed: dict[int, Questionnaire] = {}
        self._loading: dict[int, asyncio.Future[Questionnaire]] = {}

    async def register_directory(self, directory: Path) -> list[Registration]:
        """Register every questionnaire file of ``directory`` (invalid files are reported and skipped)."""
        if not directory.is_dir():
            logger.warning("questionnaire directory %s does not exist; none registered", directory)
            return []
        return [
            await self.register_file(path) for path in await asyncio.to_thread(questionnaire_files, directory)
        ]

    async def register_file(self, path: Path) -> Registration:
        result = await asyncio.to_thread(load_questionnaire, path)
        if result.questionnaire is None or result.problems:
            messages = tuple(f"{p.path}:{p.line}:{p.column}: {p.message}" for p in result.problems)
            logger.error("questionnaire %s not registered:\n%s", path, "\n".join(messages))
            return Registration(str(path), None, False, messages)
        questionnaire = result.questionnaire
        existing = (
            await QuestionnaireVersion.select(QuestionnaireVersion.id)
            .where(QuestionnaireVersion.content_hash == questionnaire.content_hash)
            .first()
            .run()
        )
        if existing is not None:
            self._parsed.setdefault(existing["id"], questionnaire)
            return Registration(str(path), existing["id"], False)
        source = await asyncio.to_thread(_read_text, path)
        async with QuestionnaireVersion._meta.db.transaction():
            previous = (
                await QuestionnaireVersion.select(QuestionnaireVersion.revision)
                .where(QuestionnaireVersion.questionnaire_id == questionnaire.id)
                .order_by(QuestionnaireVersion.revision, ascending=False)
                .first()
                .run()
            )
            rows = (
                await QuestionnaireVersion.insert(
                    QuestionnaireVersion(
                        questionnaire_id=questionnaire.id,
                        version=questionnaire.version,
                        revision=(previous["revision"] + 1) if previous else 1,
                        kind=questionnaire.kind,
                        title=questionnaire.title.get()[:300],
                        content_hash=questionnaire.content_hash,
                        source=source,
                        source_name=path.name[:300],
                        registered_at=datetime.datetime.now(datetime.UTC),
                    )
                )
                .returning(QuestionnaireVersion.id)
                .run()
            )
        version_id = rows[0]["id"]
        self._parsed[version_id] = questionnaire
        await audit_log.record(
            actor_id=None,
            actor="system",
            action="questionnaire.register",
            entity="questionnaire_version",
            entity_id=version_id,
            detail={"questionnaire": questionnaire.id, "version": questionnaire.version, "file": path.name},
        )
        return Registration(str(path), version_id, True)

    async def get(self, version_id: int) -> Questionnaire:
        """The parsed questionnaire of a stored version (parsed once, however many requests ask at once)."""
        cached = self._parsed.get(version_id)
        if cached is not None:
            return cached
        loading = self._loading.get(version_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load(version_id))
            self._loading[version_id] = loading
            loading.add_done_callback(lambda _: self._loading.pop(version_id, None))
        return await asyncio.shield(loading)

    async def _load(self, version_id: int) -> Questionnaire:
        row = (
            await QuestionnaireVersion.select(
                QuestionnaireVersion.source,
                QuestionnaireVersion.content_hash,
                QuestionnaireVersion.source_name,
            )
            .where(QuestionnaireVersion.id == version_id)
            .first()
            .run()
        )
        if row is None:
            raise NotFound(f"问卷版本不存在 / questionnaire version {version_id} not found")
        result = await asyncio.to_thread(load_text, row["source"], row["source_name"], row["content_hash"])
        if result.questionnaire is None:
            raise RuntimeError(
                f"stored questionnaire version {version_id} no longer loads: {result.problems}"
            )
        self._parsed[version_id] = result.questionnaire
        return result.questionnaire

    async def of_kind(self, kind: str) -> list[Questionnaire]:
        """Every registered version of the questionnaires of ``kind`` (``survey`` or ``inspection``), newest first."""
        rows = (
            await QuestionnaireVersion.select(QuestionnaireVersion.id)
            .where(QuestionnaireVersion.kind == kind)
            .order_by(QuestionnaireVersion.id, ascending=False)
            .run()
        )
        return [await self.get(row["id"]) for row in rows]

    async def list_versions(self, questionnaire_id: str | None = None) -> list[QuestionnaireVersionSummary]:
        query = QuestionnaireVersion.select(*SUMMARY_COLUMNS).order_by(QuestionnaireVersion.id)
        if questionnaire_id:
            query = query.where(QuestionnaireVersion.questionnaire_id == questionnaire_id)
        return [QuestionnaireVersionSummary(**row) for row in await query.run()]

    async def detail(self, version_id: int) -> QuestionnaireVersionDetail:
        row = (
            await QuestionnaireVersion.select(*SUMMARY_COLUMNS, QuestionnaireVersion.source)
            .where(QuestionnaireVersion.id == version_id)
            .first()
            .run()
        )
        if row is None:
            raise NotFound(f"问卷版本不存在 / questionnaire version {version_id} not found")
        questionnaire = await self.get(version_id)
        return QuestionnaireVersionDetail(**row, client=questionnaire.to_client_json())


def _read_text(path: Path) -> str:
    text = path.read_bytes().decode("utf-8")
    return text[1:] if text.startswith("\ufeff") else text
