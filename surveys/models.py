"""SQLAlchemy models: the tables every door and the worker share.

Times are stored as naive UTC datetimes (SQLite has no time zone type); periods are cut in the
project's time zone by `surveys.periods`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from surveys.clock import utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    # The zone the project's PeriodAnswer rows were cut in. Null or another zone than
    # `time_zone` means they must be rebuilt (the worker does) and are not read meanwhile.
    periods_zone: Mapped[str | None] = mapped_column(String(64))
    # Bulk import: the highest answer id the worker has checked against the PeriodAnswer rows;
    # answers past it are checked next (`period_answers.check_kept`).
    periods_checked_id: Mapped[int | None] = mapped_column(Integer)
    throttle_days: Mapped[int] = mapped_column(Integer, default=30)
    allowed_origins: Mapped[list[Any]] = mapped_column(default=list)
    # On for new projects (see docs/widget.md); projects made before it was keep their value.
    require_identity_verification: Mapped[bool] = mapped_column(Boolean, default=True)
    # Team-app viewers see people's emails unless the project hides them.
    hide_emails_from_viewers: Mapped[bool] = mapped_column(Boolean, default=False)
    # The event types some listener (an active webhook) wants, kept by whatever manages the
    # listeners (surveys/loop/listeners.py): a change appends an event row only when its
    # type is here, so a project nobody listens to pays nothing on its answers.
    events_wanted: Mapped[list[Any]] = mapped_column(default=list)
    # Keys are high-entropy random strings, so a plain SHA-256 is a sufficient hash: the
    # database alone never yields a usable key.
    secret_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    publishable_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The identity secret is derived from the app's SECRET_KEY and this salt, so it is never
    # stored and rotating the salt rotates the secret.
    identity_salt: Mapped[str] = mapped_column(String(64))
    key_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("project_id", "external_id"),
        Index("ix_people_project_email", "project_id", "email"),
        Index("ix_people_project_updated", "project_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(35))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # "Customer since": eligibility rules count age from here.
    created_at: Mapped[datetime | None] = mapped_column(DateTime)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime)
    bounced_at: Mapped[datetime | None] = mapped_column(DateTime)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    # Written by a trusted door: the secret-key API or a widget visit with a valid user_hash.
    # A widget visit without one then changes nothing on the person: the publishable key is
    # public, and must not redirect a customer's survey mail or rewrite their revenue.
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)


class Survey(Base):
    __tablename__ = "surveys"
    __table_args__ = (Index("ix_surveys_project", "project_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    product_name: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    channels: Mapped[list[Any]] = mapped_column(default=lambda: ["email", "widget", "link"])
    # Per-locale overrides of the built-in texts: {"en": "..."}; follow-ups per segment.
    question: Mapped[dict[str, Any]] = mapped_column(default=dict)
    followup: Mapped[dict[str, Any]] = mapped_column(default=dict)
    email_subject: Mapped[dict[str, Any]] = mapped_column(default=dict)
    email_intro: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cadence_days: Mapped[int] = mapped_column(Integer, default=90)
    first_delay_days: Mapped[int] = mapped_column(Integer, default=0)
    sample_rate: Mapped[float] = mapped_column(Float, default=1.0)
    spread_days: Mapped[int | None] = mapped_column(Integer)
    # Local "HH:MM" bounds; both null means any time. The 09:00–17:00 default is set by
    # surveys.catalog, because a column default would overwrite an explicit null.
    send_window_start: Mapped[str | None] = mapped_column(String(5))
    send_window_end: Mapped[str | None] = mapped_column(String(5))
    reminder_after_days: Mapped[int | None] = mapped_column(Integer)
    min_age_days: Mapped[int] = mapped_column(Integer, default=30)
    dismiss_backoff_days: Mapped[int] = mapped_column(Integer, default=30)
    daily_response_cap: Mapped[int | None] = mapped_column(Integer)
    # When the worker last compared the invitation counters with the invitations (null:
    # never); the survey checked longest ago goes first.
    counts_checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    @property
    def send_window(self) -> dict[str, str] | None:
        if self.send_window_start is None or self.send_window_end is None:
            return None
        return {"start": self.send_window_start, "end": self.send_window_end}


class Invitation(Base):
    """One person x one survey x one channel x one due window: the email outbox row."""

    __tablename__ = "invitations"
    __table_args__ = (
        # Makes scheduling idempotent: two schedulers racing insert one row, not two.
        UniqueConstraint("survey_id", "person_id", "channel", "window_key", "kind"),
        Index("ix_invitations_due", "status", "due_at"),
        Index("ix_invitations_project", "project_id", "id"),
        Index("ix_invitations_person", "person_id", "created_at"),
        # The per-minute send cap counts the last minute's messages before each batch.
        Index("ix_invitations_sent", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16), default="email")
    kind: Mapped[str] = mapped_column(String(16), default="invite")  # invite | reminder
    window_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    due_at: Mapped[datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)
    message_id: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Display(Base):
    """One time the widget showed a survey to a person: answered, dismissed or left open."""

    __tablename__ = "displays"
    __table_args__ = (Index("ix_displays_person", "person_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    dismissed_at: Mapped[datetime | None] = mapped_column(DateTime)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)


class SurveyResponse(Base):
    __tablename__ = "survey_responses"
    __table_args__ = (
        UniqueConstraint("project_id", "idempotency_key"),
        # Movement and "latest answer per person" read responses by survey, person and time;
        # score and excluded make it covering, so those scans never touch the table.
        Index(
            "ix_responses_survey_person_time",
            "survey_id",
            "person_id",
            "created_at",
            "score",
            "excluded",
        ),
        Index("ix_responses_project_time", "project_id", "created_at"),
        Index("ix_responses_project_updated", "project_id", "updated_at", "id"),
        Index("ix_responses_person", "person_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # Null for free-form in-product feedback, which belongs to no survey.
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16), default="api")
    locale: Mapped[str | None] = mapped_column(String(35))
    category: Mapped[str | None] = mapped_column(String(64))
    page_url: Mapped[str | None] = mapped_column(String(2048))
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="SET NULL"), unique=True
    )
    display_id: Mapped[int | None] = mapped_column(
        ForeignKey("displays.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    survey: Mapped[Survey | None] = relationship(lazy="raise")
    person: Mapped[Person] = relationship(lazy="raise")


class PeriodAnswer(Base):
    """A person's counted answer to a survey in one period: their latest non-excluded scored
    answer there. Kept as answers arrive, so movement reads two periods of these rows instead
    of ranking every stored answer."""

    __tablename__ = "period_answers"
    __table_args__ = (
        # Rows of one period come in person order from the key itself, which is what pairing
        # two periods person by person needs; SQLite stores them in that key's tree.
        Index("ix_period_answers_response", "response_id"),
        # Erasing a person: the cascade from `people` finds their rows here, not by reading
        # every row (revision 0022).
        Index("ix_period_answers_person_id", "person_id"),
        # Each person's rows of one survey and unit in period order, with the score: NPS over
        # all periods reads each person's last one from here, without a sort.
        Index("ix_period_answers_person", "survey_id", "unit", "person_id", "period", "score"),
        # One period's rows by (score in the previous period, score) with both weights: the
        # movement matrix between consecutive periods is a GROUP BY read in this order, no sort.
        Index(
            "ix_period_answers_pair",
            "survey_id",
            "unit",
            "period",
            "prev_score",
            "score",
            "weight",
            "prev_weight",
        ),
        # One period's rows by how far their segment rose, then person: movers worst drop
        # first is a range of this index with a LIMIT, not a sort of every pair.
        Index(
            "ix_period_answers_rise",
            "survey_id",
            "unit",
            "period",
            "rise",
            "person_id",
            "prev_score",
            "score",
            "response_id",
        ),
        {"sqlite_with_rowid": False},
    )

    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), primary_key=True
    )
    unit: Mapped[str] = mapped_column(String(8), primary_key=True)  # quarter | month
    period: Mapped[str] = mapped_column(String(8), primary_key=True)  # 2026-Q1 | 2026-03
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Deleting the answer deletes its row; nothing else deletes single answers.
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id", ondelete="CASCADE"))
    # The revenue property (`period_answers.KEPT_WEIGHT`) of the counted answer's snapshot,
    # when it is a JSON number: weighted movement without reading the answers.
    weight: Mapped[float | None] = mapped_column(Float)
    # The same person's row in the previous period of the unit (null: none): its score and
    # weight, and the segment rank of this score minus that one's. Kept by `period_answers`
    # whenever either row is written.
    prev_score: Mapped[int | None] = mapped_column(Integer)
    prev_weight: Mapped[float | None] = mapped_column(Float)
    rise: Mapped[int | None] = mapped_column(Integer)


class ThemeRun(Base):
    """One clustering run over a project's comments; also the worker's queue entry."""

    __tablename__ = "theme_runs"
    __table_args__ = (
        Index("ix_theme_runs_project", "project_id", "id"),
        Index("ix_theme_runs_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str | None] = mapped_column(Text)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    unassigned_share: Mapped[float | None] = mapped_column(Float)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(32))
    model: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    assigned_until_id: Mapped[int | None] = mapped_column(Integer)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class FrictionPoint(Base):
    """A stored, ranked theme of complaints, made from one cluster of a run."""

    __tablename__ = "friction_points"
    __table_args__ = (Index("ix_friction_points_run", "run_id", "rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("theme_runs.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    cluster: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    label: Mapped[str] = mapped_column(String(255))
    top_terms: Mapped[list[Any]] = mapped_column(default=list)
    size: Mapped[int] = mapped_column(Integer, default=0)
    share: Mapped[float] = mapped_column(Float, default=0.0)
    detractors: Mapped[int] = mapped_column(Integer, default=0)
    passives: Mapped[int] = mapped_column(Integer, default=0)
    average_score: Mapped[float | None] = mapped_column(Float)
    nps_impact: Mapped[float] = mapped_column(Float, default=0.0)
    revenue_at_risk: Mapped[float | None] = mapped_column(Float)
    trend: Mapped[list[Any]] = mapped_column(default=list)
    trend_direction: Mapped[str | None] = mapped_column(String(16))
    trend_slope: Mapped[float | None] = mapped_column(Float)
    quotes: Mapped[list[Any]] = mapped_column(default=list)
    # Theme edits (surveys/themes/edits.py): hidden from the lists; merged into another point
    # of the same run (its responses moved there; later answers of its cluster go there too).
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(Integer)


class ThemeAssignment(Base):
    """Which friction point of a run a response belongs to (null: unassigned)."""

    __tablename__ = "theme_assignments"
    __table_args__ = (
        Index("ix_theme_assignments_point", "friction_point_id", "response_id"),
        # An erased answer's assignments, sought by the answer (revision 0022).
        Index("ix_theme_assignments_response", "response_id"),
    )

    run_id: Mapped[int] = mapped_column(
        ForeignKey("theme_runs.id", ondelete="CASCADE"), primary_key=True
    )
    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), primary_key=True
    )
    friction_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("friction_points.id", ondelete="CASCADE")
    )


class User(Base):
    """A team member who signs in to the team app; reaches projects through memberships."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lowercased (surveys.accounts.users.normalise_email), so unique means unique.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # An argon2 hash; null until the invited member sets a password through a one-time link.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Part of the signed session cookie: raising it signs the user out everywhere.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # The TOTP seed, sealed (surveys/sealed.py, purpose "totp"): the service must read it
    # back to check codes, so it cannot be hashed, and a copy of the database must not give
    # away anyone's second factor.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    # The last accepted TOTP time step: a code is good once, not for its whole 30 seconds.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    signed_in_at: Mapped[datetime | None] = mapped_column(DateTime)


class Membership(Base):
    """A user's role in one project: owner, editor or viewer."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "project_id"),
        Index("ix_memberships_project", "project_id", "role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="raise")
    project: Mapped[Project] = relationship(lazy="raise")


class OneTimeLink(Base):
    """An emailed or printed link that lets a user set a password once (invite, reset,
    first sign-in); only the token's hash is stored."""

    __tablename__ = "one_time_links"
    __table_args__ = (Index("ix_one_time_links_user", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


# Webhooks: the event outbox, customers' endpoints and each signed delivery to them.


class Event(Base):
    """Something a listener wants to hear about, written in the transaction of the change that
    caused it; the worker fans it out to deliveries and deletes it (a durable outbox)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    # The object the event is about (a response, person, theme run or invitation id); its
    # JSON is rendered when the event is fanned out, from the API's own schema.
    object_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Webhook(Base):
    """A customer's endpoint, the events it wants and the filters they must pass."""

    __tablename__ = "webhooks"
    __table_args__ = (Index("ix_webhooks_project", "project_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[Any]] = mapped_column(default=list)
    description: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Filters; null passes everything. A plain id, not a foreign key: deleting a survey
    # should not silently delete the endpoint.
    survey_id: Mapped[int | None] = mapped_column(Integer)
    segment: Mapped[str | None] = mapped_column(String(16))
    score_min: Mapped[int | None] = mapped_column(Integer)
    score_max: Mapped[int | None] = mapped_column(Integer)
    # `whsec_...`, sealed with surveys.sealed: the worker signs with it, so it cannot be hashed.
    secret: Mapped[str] = mapped_column(String(255))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Delivery(Base):
    """One event for one webhook: its signed body, and the attempts to deliver it."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # Fanning out twice (two workers on SQLite, a retried pass) inserts one row, not two.
        UniqueConstraint("webhook_id", "event_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
        Index("ix_webhook_deliveries_person", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # Whose data the body carries: erasing the person deletes the copy sent or waiting here.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    # The outbox row it came from (deleted once fanned out); null for a test event.
    event_id: Mapped[int | None] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(40))
    # The `webhook-id` header: the same on every attempt, so receivers can deduplicate.
    msg_id: Mapped[str] = mapped_column(String(40), unique=True)
    # The exact body signed and sent, so every attempt sends the same bytes.
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    response_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


# Alerts: rules that tell Slack, Teams or email addresses that something happened, and each
# match of a rule, kept so that it is sent once.


class AlertRule(Base):
    """When to tell whom that something happened: a detractor answered, a promoter dropped to
    detractor, or a friction point's share grew significantly."""

    __tablename__ = "alert_rules"
    __table_args__ = (Index("ix_alert_rules_project", "project_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(
        String(32)
    )  # detractor | promoter_to_detractor | theme_growth
    comment_required: Mapped[bool] = mapped_column(Boolean, default=False)
    property_key: Mapped[str | None] = mapped_column(String(100))
    property_value: Mapped[str | None] = mapped_column(String(1000))
    revenue_property: Mapped[str | None] = mapped_column(String(100))
    revenue_min: Mapped[float | None] = mapped_column(Float)
    destination: Mapped[str] = mapped_column(String(16))  # slack | teams | email
    # A Slack or Teams webhook URL is itself the credential to post there: sealed at rest,
    # shown only as `url_hint`.
    url_sealed: Mapped[str | None] = mapped_column(Text)
    url_hint: Mapped[str | None] = mapped_column(String(200))
    emails: Mapped[list[Any]] = mapped_column(default=list)
    group_seconds: Mapped[int] = mapped_column(Integer, default=60)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Answers with ids up to `settled_to` are matched for good; those up to `examined_to` were
    # matched once and are looked at again next pass, for answers committed out of id order.
    settled_to: Mapped[int] = mapped_column(Integer, default=0)
    examined_to: Mapped[int] = mapped_column(Integer, default=0)
    theme_run_id: Mapped[int | None] = mapped_column(Integer)
    theme_checked_at: Mapped[datetime | None] = mapped_column(DateTime)
    # One worker at a time matches and sends a rule's alerts.
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_status: Mapped[str | None] = mapped_column(String(16))
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class AlertEvent(Base):
    """One match of a rule: an answer, or a friction point in a period. Unique per rule and
    subject, so a pass that runs twice finds the match taken instead of sending it again."""

    __tablename__ = "alert_events"
    __table_args__ = (
        UniqueConstraint("rule_id", "subject"),
        Index("ix_alert_events_rule_status", "rule_id", "status", "occurred_at"),
        # An erased answer's events, sought by the answer (revision 0022).
        Index("ix_alert_events_response", "response_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(80))  # response:12 | theme:2026-Q4:<hash> | test:..
    # The message is built from the answer when it is sent; erasing the answer removes its match.
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE")
    )
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # pending -> sending -> sent | failed; sending left by a dead worker becomes uncertain
    status: Mapped[str] = mapped_column(String(16), default="pending")
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# Digests: the periodic summary email a team member opts in to, per project.


class DigestSubscription(Base):
    """A user's opt-in to one project's digest email, weekly or monthly."""

    __tablename__ = "digest_subscriptions"
    __table_args__ = (
        UniqueConstraint("user_id", "project_id"),
        Index("ix_digest_subscriptions_active", "active", "project_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    cadence: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The end of the period the last sent digest covered: feedback after it is "new", and
    # without any the next digest is paused.
    covered_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class DigestSend(Base):
    """One subscription's digest for one period: inserted before sending, so a period is
    claimed once however many passes or workers run (unique per subscription and period)."""

    __tablename__ = "digest_sends"
    __table_args__ = (UniqueConstraint("subscription_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("digest_subscriptions.id", ondelete="CASCADE")
    )
    period: Mapped[str] = mapped_column(String(16))
    # sending -> sent | paused (no new feedback) | failed
    status: Mapped[str] = mapped_column(String(16), default="sending")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


# Triage: tags, notes and follow-ups on responses (surveys/loop/triage*.py).


class Tag(Base):
    """A label from the project-wide list, put on responses."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ResponseTag(Base):
    """One tag on one response."""

    __tablename__ = "response_tags"
    __table_args__ = (Index("ix_response_tags_tag", "tag_id", "response_id"),)

    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), primary_key=True
    )
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Note(Base):
    """An internal note on a response, written by a team member."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_response", "response_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id", ondelete="CASCADE"))
    # Kept when the author leaves: the note is the project's record, not the author's.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    author: Mapped[User | None] = relationship(lazy="raise")


class FollowUp(Base):
    """The call-back on one response: owner, status (new -> contacted -> resolved) and due."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        Index("ix_follow_ups_project_status", "project_id", "status", "due_at"),
        Index("ix_follow_ups_owner", "owner_id", "status"),
    )

    # One per response: the worker's opening pass and a person both inserting race to one row.
    response_id: Mapped[int] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="new")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    # auto (opened by the worker) or manual (opened by a team member)
    source: Mapped[str] = mapped_column(String(16), default="manual")
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    contacted_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[User | None] = relationship(lazy="raise")


class FollowUpSettings(Base):
    """A project's follow-up rules: on or off, SLA hours per segment, the owner rule."""

    __tablename__ = "follow_up_settings"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # {"detractor": 48, "passive": 120}: hours from opening to due; a segment left out has
    # no due time.
    sla_hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A person property (e.g. account_owner) holding a member's email: that member owns.
    owner_property: Mapped[str | None] = mapped_column(String(255))
    # The opening pass has looked at every response up to this id.
    scanned_until_id: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ThemeEdit(Base):
    """A team member's edit of a friction point (rename, merge, hide), kept so later runs
    apply it again to the themes that match (surveys/themes/edits.py)."""

    __tablename__ = "theme_edits"
    __table_args__ = (Index("ix_theme_edits_project", "project_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # rename | merge | hide
    # The top terms of the edited point (for a merge, of the point kept) when the edit was
    # made: what a later run's points are matched against.
    terms: Mapped[list[Any]] = mapped_column(default=list)
    # A merge: the top terms of the point merged away.
    other_terms: Mapped[list[Any]] = mapped_column(default=list)
    label: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# Speed: the people counted per survey, period and score, kept by the database itself.


class PeriodScore(Base):
    """How many people's counted answer (`period_answers`) in a survey and period has each
    score: NPS per period and the score histogram read a few dozen of these rows instead of
    a million period answers.

    Kept by triggers on `period_answers` (migration 0017), so every writer of those rows
    (answers, edits, erasure, rebuilds, bulk paths) keeps it without a statement of its own.
    Concurrent writers on PostgreSQL count into their own `slot` (the server process's id
    modulo 32) rather than queue on one row per score; a reader sums the slots, and a slot
    may go below zero when one connection removes what another counted. No foreign key:
    the rows of a deleted survey are counted back to zero by the cascade that removes its
    period answers, and a key would refuse that cascade's own trigger writes.
    """

    __tablename__ = "period_scores"
    __table_args__ = ({"sqlite_with_rowid": False},)

    survey_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    unit: Mapped[str] = mapped_column(String(8), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    score: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    people: Mapped[int] = mapped_column(Integer)


class InvitationCount(Base):
    """How many of a survey's invitations are in each delivery state: the surveys list and the
    invitation stats read a few rows per survey instead of counting every invitation.

    Kept by triggers on `invitations` (migration 0018), so every writer of those rows
    (scheduling, the dispatcher's marks, answers, erasure, cascades) keeps it in the same
    transaction without a statement of its own; an update that leaves the counted key as it
    was (a claim, a lease, a retry's error text) writes nothing. On PostgreSQL the triggers run
    once per statement over its changed rows (one upsert per key, not per row, so a bulk
    insert stays linear). `bounced` and `responded` are
    0 or 1. As in `period_scores`, concurrent writers on PostgreSQL count into their own
    `slot`, a reader sums the slots, and there is no foreign key (a deleted survey's rows are
    counted back to zero by its cascade). The worker compares them with the invitations and
    rebuilds a survey's rows that disagree (surveys/email/invitation_counts.py).
    """

    __tablename__ = "invitation_counts"
    __table_args__ = ({"sqlite_with_rowid": False},)

    survey_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    bounced: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    responded: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    invitations: Mapped[int] = mapped_column(Integer)
