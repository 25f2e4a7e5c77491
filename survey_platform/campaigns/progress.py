"""Field progress of a campaign: interviews per city against the minimum sample, by channel and by interviewer;
flagged and excluded interviews; audits per state and per inspector; the last submission.

Counted in the database (one ``GROUP BY`` over the covering index of migration ``2026-11-28T10:00:00``), so
the page answers quickly however many interviews there are; :func:`assemble` turns the grouped rows into the figures
(pure). The flagged count comes from the quality cache (``responses.flagged.QualityCache.latest``): it never
waits for the quality rules, and says over how many interviews and when it was computed.

The counting follows the release's (``publishing.inputs.survey_inputs``): of the interviews collected in a city,
those screened out (not eligible, or excluded at ingestion) and those a reviewer excluded do not count as valid;
the valid ones are measured against the campaign's minimum sample per city.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec

from survey_platform.accounts.service import Account, accounts_by_id
from survey_platform.audits.listing import REVIEW_STATES
from survey_platform.campaigns.schemas import Campaign
from survey_platform.campaigns.service import get_campaign
from survey_platform.responses.flagged import CampaignFlags, QualityCache
from survey_platform.responses.schemas import CHANNELS
from survey_platform.storage.tables import City, SurveyResponse


class CityProgress(msgspec.Struct, kw_only=True):
    city: str
    name_zh: str
    name_en: str
    collected: int
    screened_out: int
    excluded_by_review: int
    valid: int
    target: int
    share: float  # valid / target (above 1 once the minimum sample is passed)


class FieldAccountProgress(msgspec.Struct, kw_only=True):
    """An interviewer's interviews or an inspector's audits (``by_state``: audits per review state)."""

    account_id: int
    username: str
    display_name: str
    count: int
    last_at: datetime.datetime | None
    by_state: dict[str, int] = msgspec.field(default_factory=dict)


class QualityProgress(msgspec.Struct, kw_only=True):
    """Flagged interviews as of the last computation (null until the first one finished)."""

    flagged: int | None
    judged: int | None  # interviews the flags were computed over
    computed_at: datetime.datetime | None
    excluded_by_review: int


class Progress(msgspec.Struct, kw_only=True):
    campaign: str
    name: str
    kind: str
    status: str
    min_sample_per_city: int
    generated_at: datetime.datetime
    last_submission: datetime.datetime | None
    collected: int
    screened_out: int
    valid: int
    cities_done: int  # cities with at least the minimum sample of valid interviews
    channels: dict[str, int]
    cities: list[CityProgress]
    interviewers: list[FieldAccountProgress]
    quality: QualityProgress | None  # survey campaigns
    audits: dict[str, int]  # inspection campaigns: audits per review state
    inspectors: list[FieldAccountProgress]


def _time(value: object) -> datetime.datetime | None:
    """A timestamp from an aggregate (SQLite hands back text, PostgreSQL a datetime)."""
    if value is None or isinstance(value, datetime.datetime):
        return value
    parsed = datetime.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _latest(values: Iterable[datetime.datetime | None]) -> datetime.datetime | None:
    present = [value for value in values if value is not None]
    return max(present) if present else None


def assemble(
    campaign: Campaign,
    cities: Mapping[str, tuple[str, str]],
    responses: Sequence[Mapping[str, Any]],
    excluded: Mapping[str, int],
    audits: Sequence[Mapping[str, Any]],
    accounts: Mapping[int, Account],
    flags: CampaignFlags | None,
    now: datetime.datetime,
) -> Progress:
    """The progress figures from the grouped rows (pure).

    ``cities``: code → (name_zh, name_en) of the campaign's cities; ``responses``: rows of (city_code, channel,
    eligible, status, submitted_by, n, last); ``excluded``: city → interviews whose latest review excludes them;
    ``audits``: (inspector, review_state, n, last).
    """
    collected: Counter[str] = Counter()
    screened: Counter[str] = Counter()
    channels: Counter[str] = Counter(dict.fromkeys(CHANNELS, 0))
    by_account: Counter[int] = Counter()
    account_last: dict[int, datetime.datetime | None] = {}
    for row in responses:
        n = int(row["n"])
        collected[row["city_code"]] += n
        channels[row["channel"]] += n
        if not row["eligible"] or row["status"] == "excluded":
            screened[row["city_code"]] += n
        if row["submitted_by"] is not None:
            account = int(row["submitted_by"])
            by_account[account] += n
            account_last[account] = _latest([account_last.get(account), _time(row["last"])])
    target = campaign.min_sample_per_city
    codes = list(campaign.cities) + sorted(set(collected) - set(campaign.cities))
    city_rows = []
    for code in codes:
        valid = collected[code] - screened[code] - excluded.get(code, 0)
        name_zh, name_en = cities.get(code, (code, ""))
        city_rows.append(
            CityProgress(
                city=code,
                name_zh=name_zh,
                name_en=name_en,
                collected=collected[code],
                screened_out=screened[code],
                excluded_by_review=excluded.get(code, 0),
                valid=valid,
                target=target,
                share=valid / target if target else 0.0,
            )
        )

    def person(account_id: int, count: int, last: datetime.datetime | None) -> FieldAccountProgress:
        account = accounts.get(account_id)
        return FieldAccountProgress(
            account_id=account_id,
            username=account.username if account else f"#{account_id}",
            display_name=account.display_name if account else "",
            count=count,
            last_at=last,
        )

    interviewers = sorted(
        (person(account, count, account_last[account]) for account, count in by_account.items()),
        key=lambda p: (-p.count, p.username),
    )
    audit_states: Counter[str] = Counter(dict.fromkeys(REVIEW_STATES, 0))
    per_inspector: dict[int, Counter[str]] = defaultdict(Counter)
    inspector_last: dict[int, datetime.datetime | None] = {}
    for row in audits:
        n, inspector = int(row["n"]), int(row["inspector"])
        audit_states[row["review_state"]] += n
        per_inspector[inspector][row["review_state"]] += n
        inspector_last[inspector] = _latest([inspector_last.get(inspector), _time(row["last"])])
    inspectors = []
    for inspector, states in per_inspector.items():
        entry = person(inspector, sum(states.values()), inspector_last[inspector])
        entry.by_state = {state: states.get(state, 0) for state in REVIEW_STATES}
        inspectors.append(entry)
    inspectors.sort(key=lambda p: (-p.count, p.username))
    quality = None
    if campaign.kind == "survey":
        quality = QualityProgress(
            flagged=flags.flagged_count if flags else None,
            judged=flags.judged if flags else None,
            computed_at=flags.computed_at if flags else None,
            excluded_by_review=sum(excluded.values()),
        )
    total = sum(collected.values())
    return Progress(
        campaign=campaign.code,
        name=campaign.name,
        kind=campaign.kind,
        status=campaign.status,
        min_sample_per_city=target,
        generated_at=now,
        last_submission=_latest([_time(r["last"]) for r in responses] + [_time(r["last"]) for r in audits]),
        collected=total,
        screened_out=sum(screened.values()),
        valid=sum(c.valid for c in city_rows),
        cities_done=sum(1 for c in city_rows if c.valid >= target),
        channels=dict(channels),
        cities=city_rows,
        interviewers=interviewers,
        quality=quality,
        audits=dict(audit_states) if campaign.kind == "inspection" else {},
        inspectors=inspectors,
    )


# one scan of the covering index response_progress (migration 2026-11-28T10:00:00)
RESPONSES_BY_GROUP = (
    "SELECT city_code, channel, eligible, status, submitted_by, COUNT(*) AS n, MAX(received_at) AS last, "
    "MAX(id) AS last_id FROM response WHERE campaign = {} "
    "GROUP BY city_code, channel, eligible, status, submitted_by"
)
# the latest decision of each reviewed interview, read from the (small) table of decisions first
EXCLUDED_BY_CITY = (
    "SELECT s.city_code AS city_code, COUNT(*) AS n "
    "FROM (SELECT response, MAX(id) AS last FROM response_review GROUP BY response) latest "
    "JOIN response_review r ON r.id = latest.last JOIN response s ON s.id = latest.response "
    "WHERE s.campaign = {} AND s.eligible = TRUE AND s.status <> 'excluded' AND r.decision = 'exclude' "
    "GROUP BY s.city_code"
)
AUDITS_BY_GROUP = (
    "SELECT inspector, review_state, COUNT(*) AS n, MAX(received_at) AS last FROM audit "
    "WHERE campaign = {} GROUP BY inspector, review_state"
)


async def campaign_progress(code: str, cache: QualityCache) -> Progress:
    """The field progress of campaign ``code`` now (for admins; drafts included)."""
    campaign = await get_campaign(code)
    raw = SurveyResponse.raw
    responses = await raw(RESPONSES_BY_GROUP, campaign.id).run()
    excluded = {row["city_code"]: int(row["n"]) for row in await raw(EXCLUDED_BY_CITY, campaign.id).run()}
    audits = await raw(AUDITS_BY_GROUP, campaign.id).run()
    city_rows = (
        await City.select(City.code, City.name_zh, City.name_en)
        .where(City.code.is_in(campaign.cities or [""]))
        .run()
    )
    people = {int(r["submitted_by"]) for r in responses if r["submitted_by"] is not None}
    people |= {int(r["inspector"]) for r in audits}
    flags = None
    if campaign.kind == "survey" and responses:
        # what the cache would ask the database for, already counted here
        fingerprint = (sum(int(r["n"]) for r in responses), max(int(r["last_id"]) for r in responses))
        flags = await cache.latest(campaign, fingerprint)
    return assemble(
        campaign,
        {row["code"]: (row["name_zh"], row["name_en"]) for row in city_rows},
        responses,
        excluded,
        audits,
        await accounts_by_id(sorted(people)),
        flags,
        datetime.datetime.now(datetime.UTC),
    )


__all__ = ["CHANNELS", "CityProgress", "FieldAccountProgress", "Progress", "assemble", "campaign_progress"]
