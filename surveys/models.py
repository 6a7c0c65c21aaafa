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
    throttle_days: Mapped[int] = mapped_column(Integer, default=30)
    allowed_origins: Mapped[list[Any]] = mapped_column(default=list)
    # On for new projects (see docs/widget.md); projects made before it was keep their value.
    require_identity_verification: Mapped[bool] = mapped_column(Boolean, default=True)
    # Team-app viewers see people's emails unless the project hides them.
    hide_emails_from_viewers: Mapped[bool] = mapped_column(Boolean, default=False)
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
        # Each person's rows of one survey and unit in period order, with the score: NPS over
        # all periods reads each person's last one from here, without a sort.
        Index("ix_period_answers_person", "survey_id", "unit", "person_id", "period", "score"),
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


class ThemeAssignment(Base):
    """Which friction point of a run a response belongs to (null: unassigned)."""

    __tablename__ = "theme_assignments"
    __table_args__ = (Index("ix_theme_assignments_point", "friction_point_id", "response_id"),)

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
    totp_secret: Mapped[str | None] = mapped_column(String(64))
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
