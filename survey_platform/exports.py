"""A campaign's raw export: its responses (survey) or its audits (inspection), as the rows of a CSV or XLSX file."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

from survey_platform.audits.export import audit_rows
from survey_platform.campaigns.questionnaires import QuestionnaireCatalog
from survey_platform.campaigns.service import get_campaign
from survey_platform.responses.export import answer_columns, campaign_rows

FORMATS = ("csv", "xlsx")


@dataclasses.dataclass(frozen=True, slots=True)
class CampaignExport:
    """What to write: a file name without extension, a worksheet name, and the rows (header first)."""

    name: str
    sheet: str
    rows: AsyncIterator[list[object]]


async def campaign_export(code: str, catalog: QuestionnaireCatalog) -> CampaignExport:
    """The export of campaign ``code`` (NotFound when there is none): one row per response or per audit."""
    campaign = await get_campaign(code)
    questionnaire = await catalog.get(campaign.questionnaire_version)
    if campaign.kind == "inspection":
        return CampaignExport(f"{code}-audits", "audits", audit_rows(campaign.id, code, questionnaire))
    return CampaignExport(
        f"{code}-responses", "responses", campaign_rows(code, answer_columns(questionnaire))
    )
