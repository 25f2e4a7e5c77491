"""Piccolo tables of the service (one schema for SQLite and PostgreSQL).

Accounts are Piccolo's ``BaseUser`` (table ``piccolo_user``, hashed passwords); the role of each account lives
in :class:`AccountRole`. JSON columns hold small documents (answers, scopes, margins, flags).
"""

from __future__ import annotations

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import (
    JSON,
    UUID,
    BigInt,
    Boolean,
    Bytea,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from scoring.sample_size import DEFAULT_MIN_SAMPLE


class AccountRole(Table, tablename="account_role"):
    """The platform role of one Piccolo user: admin, reviewer, inspector or interviewer.

    ``session_generation`` invalidates sessions: every session records the generation it was issued under, and a
    deactivation, role change or new password increments it, so sessions end at once in every process.
    """

    user = ForeignKey(references=BaseUser, unique=True, on_delete=OnDelete.cascade)
    role = Varchar(length=20)
    display_name = Varchar(length=100, default="")
    session_generation = Integer(default=0)


class AuditLogEntry(Table, tablename="audit_log"):
    """Append-only record of who changed what (never updated or deleted by the service)."""

    at = Timestamptz()
    actor_id = Integer(null=True, default=None)
    actor = Varchar(length=100, default="")
    action = Varchar(length=60)
    entity = Varchar(length=40)
    entity_id = Varchar(length=100, default="")
    detail = JSON(default="{}")


class QuestionnaireVersion(Table, tablename="questionnaire_version"):
    """One exact questionnaire text; a changed file becomes a new row, rows are never edited."""

    questionnaire_id = Varchar(length=100, index=True)
    version = Varchar(length=50)
    revision = Integer(default=1)
    kind = Varchar(length=20)
    title = Varchar(length=300, default="")
    content_hash = Varchar(length=64, unique=True)
    source = Text()
    source_name = Varchar(length=300, default="")
    registered_at = Timestamptz()


class City(Table, tablename="city"):
    """A city in which campaigns sample residents; margins are population shares for weighting."""

    code = Varchar(length=20, unique=True)
    name_zh = Varchar(length=100)
    name_en = Varchar(length=100, default="")
    province = Varchar(length=100, default="")
    population = BigInt(default=0)
    margins = JSON(default="{}")
    # Annual retail sales of consumer goods (for national figures weighted by population and sales), if known
    retail_sales = DoublePrecision(null=True, default=None)


class Venue(Table, tablename="venue"):
    """A business or place that inspectors visit."""

    name = Varchar(length=200)
    category = Varchar(length=60, index=True)
    city = ForeignKey(references=City, on_delete=OnDelete.restrict)
    address = Varchar(length=300, default="")
    latitude = DoublePrecision(null=True, default=None)
    longitude = DoublePrecision(null=True, default=None)
    visit_history = JSON(default="[]")
    # The UUID a field app generated when an inspector added the venue offline (None for venues added by admins):
    # a re-send of the same new venue finds it instead of creating another. Unique through the index
    # ``venue_client_id`` (a migration's raw step: SQLite cannot add a UNIQUE column to an existing table).
    client_id = UUID(null=True, default=None)


class Campaign(Table, tablename="campaign"):
    """A survey or inspection campaign over one questionnaire version and a set of cities or venues."""

    code = Varchar(length=80, unique=True)
    name = Varchar(length=200)
    questionnaire = ForeignKey(references=QuestionnaireVersion, on_delete=OnDelete.restrict)
    city_codes = JSON(default="[]")
    venue_ids = JSON(default="[]")
    starts_on = Date(null=True, default=None)
    ends_on = Date(null=True, default=None)
    min_sample_per_city = Integer(default=DEFAULT_MIN_SAMPLE)
    # Release method settings declared for the campaign (publishing.model.MethodSettings fields, e.g.
    # {"city_weighting": "population_and_sales"}); everything else takes the defaults
    method = JSON(default="{}")
    status = Varchar(length=20, default="draft")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class SurveyResponse(Table, tablename="response"):
    """One citizen's answers, keyed by the client-generated UUID (idempotent ingestion)."""

    uuid = UUID(unique=True)
    campaign = ForeignKey(references=Campaign, on_delete=OnDelete.restrict, index=True)
    city_code = Varchar(length=20, index=True)
    venue_id = Integer(null=True, default=None)
    questionnaire = ForeignKey(references=QuestionnaireVersion, on_delete=OnDelete.restrict)
    answers = JSON(default="{}")
    body_hash = Varchar(length=64)
    channel = Varchar(length=20, default="intercept")
    # The signed-in interviewer (or other field account) who sent it; None for anonymous citizens.
    submitted_by = Integer(null=True, default=None)
    started_at = Timestamptz(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    received_at = Timestamptz()
    duration_seconds = DoublePrecision(null=True, default=None)
    eligible = Boolean(default=True)
    quality_flags = JSON(default="[]")
    status = Varchar(length=20, default="valid")
    status_reason = Varchar(length=300, default="")
    # How it was filled in: {"sections": {section id: seconds on screen}} (None when the client sent none)
    paradata = JSON(null=True, default=None)


class CampaignAssignment(Table, tablename="campaign_assignment"):
    """An account assigned to a campaign in its role: interviewers (surveys), inspectors (inspections) submit to it;
    reviewers review it. One row per (campaign, account)."""

    campaign = ForeignKey(references=Campaign, on_delete=OnDelete.cascade, index=True)
    account = ForeignKey(references=BaseUser, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=20)


class Photo(Table, tablename="photo"):
    """Evidence photo metadata; the bytes live in the data directory under their SHA-256."""

    sha256 = Varchar(length=64, unique=True)
    media_type = Varchar(length=40)
    size = Integer()
    uploaded_by = Integer(null=True, default=None)
    uploaded_at = Timestamptz()
    # When the photo was taken, as the uploading phone recorded it (the re-encoded JPEG has no EXIF any more)
    captured_at = Timestamptz(null=True, default=None)


class Audit(Table, tablename="audit"):
    """One inspection of a venue by an inspector, keyed by the client-generated UUID."""

    uuid = UUID(unique=True)
    campaign = ForeignKey(references=Campaign, on_delete=OnDelete.restrict, index=True)
    venue = ForeignKey(references=Venue, on_delete=OnDelete.restrict, index=True)
    inspector = ForeignKey(references=BaseUser, on_delete=OnDelete.restrict, index=True)
    questionnaire = ForeignKey(references=QuestionnaireVersion, on_delete=OnDelete.restrict)
    answers = JSON(default="{}")
    body_hash = Varchar(length=64)
    started_at = Timestamptz(null=True, default=None)
    submitted_at = Timestamptz(null=True, default=None)
    received_at = Timestamptz()
    latitude = DoublePrecision(null=True, default=None)
    longitude = DoublePrecision(null=True, default=None)
    accuracy_m = DoublePrecision(null=True, default=None)
    photos = JSON(default="[]")
    quality_flags = JSON(default="[]")
    status = Varchar(length=20, default="valid")
    status_reason = Varchar(length=300, default="")
    review_state = Varchar(length=20, default="submitted", index=True)
    updated_at = Timestamptz()


class AuditReview(Table, tablename="audit_review"):
    """The review history of an audit: submissions, approvals, returns with comments, rejections."""

    audit = ForeignKey(references=Audit, on_delete=OnDelete.cascade, index=True)
    at = Timestamptz()
    actor_id = Integer(null=True, default=None)
    actor = Varchar(length=100, default="")
    action = Varchar(length=20)
    from_state = Varchar(length=20, default="")
    to_state = Varchar(length=20)
    comment = Text(default="")


class ResponseReview(Table, tablename="response_review"):
    """A reviewer's decision on an interview the quality rules flagged: keep or exclude (with a reason).

    Append-only history; the latest row of a response is its decision. A release leaves excluded interviews out.
    """

    response = ForeignKey(references=SurveyResponse, on_delete=OnDelete.cascade, index=True)
    decision = Varchar(length=20)  # keep | exclude
    reason = Text(default="")
    at = Timestamptz()
    actor_id = Integer(null=True, default=None)
    actor = Varchar(length=100, default="")


class Release(Table, tablename="release"):
    """A frozen, reproducible set of results of one campaign (never updated except to mark it superseded).

    ``inputs`` records everything the computation used besides the stored answers and audits (method settings,
    seed, cities with their populations and margins, the previous release's figures); ``inputs_fingerprint`` pins
    exactly which responses and audits (``publishing.compute.inputs_fingerprint``); ``results`` is the results
    document (JSON) and ``results_hash`` its SHA-256.
    """

    code = Varchar(length=100, unique=True)
    campaign = ForeignKey(references=Campaign, on_delete=OnDelete.restrict, index=True)
    sequence = Integer()
    questionnaire = ForeignKey(references=QuestionnaireVersion, on_delete=OnDelete.restrict)
    kind = Varchar(length=20)
    created_at = Timestamptz()
    created_by = Varchar(length=100, default="")
    note = Text(default="")
    status = Varchar(length=20, default="current")  # current | superseded
    superseded_by = Varchar(length=100, default="")
    supersedes = Varchar(length=100, default="")
    changelog = JSON(default="[]")
    software_version = Varchar(length=50, default="")
    seed = BigInt(default=0)
    inputs_fingerprint = Varchar(length=64)
    inputs = JSON(default="{}")
    results_hash = Varchar(length=64)
    results = Text(default="{}")


class ReleaseFile(Table, tablename="release_file"):
    """One open-data file of a release (CSV, XLSX, JSON, datapackage.json), stored with the release."""

    release = ForeignKey(references=Release, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    media_type = Varchar(length=100)
    sha256 = Varchar(length=64)
    size = Integer()
    content = Bytea()


TABLES: tuple[type[Table], ...] = (
    BaseUser,
    AccountRole,
    AuditLogEntry,
    QuestionnaireVersion,
    City,
    Venue,
    Campaign,
    SurveyResponse,
    CampaignAssignment,
    Photo,
    Audit,
    AuditReview,
    ResponseReview,
    Release,
    ReleaseFile,
)
