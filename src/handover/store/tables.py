"""The database schema. Alembic migrations must match it exactly (a test compares them)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from handover.store.types import UTCDateTime

ID = String(64)
# Log positions: 64-bit on PostgreSQL; on SQLite exactly INTEGER, so the primary key is the rowid itself (a BIGINT
# key would get a second B-tree, written on every append).
Position = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class AuthorityRow(Base):
    __tablename__ = "authorities"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))


class FacilityRow(Base):
    __tablename__ = "facilities"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_ar: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(32))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    authority_id: Mapped[str] = mapped_column(ForeignKey("authorities.id"))
    security_level: Mapped[int] = mapped_column(Integer)
    capacity_adult_men: Mapped[int] = mapped_column(Integer)
    capacity_adult_women: Mapped[int] = mapped_column(Integer)
    capacity_minors: Mapped[int] = mapped_column(Integer)


class RouteRow(Base):
    __tablename__ = "routes"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    origin_id: Mapped[str] = mapped_column(ForeignKey("facilities.id"))
    destination_id: Mapped[str] = mapped_column(ForeignKey("facilities.id"))
    via: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of facility ids, in order
    mode: Mapped[str] = mapped_column(String(32))
    escort_id: Mapped[str] = mapped_column(ForeignKey("authorities.id"))
    distance_km: Mapped[int] = mapped_column(Integer)
    seats: Mapped[int] = mapped_column(Integer)


class PersonRow(Base):
    """The identity registry. Personal data lives here only, never in events or the log."""

    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name_ar: Mapped[str] = mapped_column(String(300))
    name_latin: Mapped[str] = mapped_column(String(300))
    aliases: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of other spellings
    sex: Mapped[str] = mapped_column(String(8))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    age_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    nationality: Mapped[str] = mapped_column(String(2), index=True)
    nationalities: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of ISO codes
    mother_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"), nullable=True, index=True)
    estate: Mapped[str] = mapped_column(String(16))
    identity_salt: Mapped[str] = mapped_column(String(64))
    identity_commitment: Mapped[str] = mapped_column(String(64))


class MovementRow(Base):
    __tablename__ = "movements"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    route_id: Mapped[str | None] = mapped_column(ForeignKey("routes.id"), nullable=True)
    origin_id: Mapped[str] = mapped_column(ForeignKey("facilities.id"))
    destination_id: Mapped[str] = mapped_column(ForeignKey("facilities.id"))
    mode: Mapped[str] = mapped_column(String(32))
    escort_id: Mapped[str] = mapped_column(ForeignKey("authorities.id"))
    state: Mapped[str] = mapped_column(String(16))
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CustodyEventRow(Base):
    """Append-only: triggers refuse UPDATE and DELETE. `seq` is gapless and becomes the log index."""

    __tablename__ = "custody_events"

    seq: Mapped[int] = mapped_column(Position, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(ID, unique=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    type: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    facility_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    authority_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    movement_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    corrects: Mapped[str | None] = mapped_column(ID, nullable=True)
    details: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON object of strings

    __table_args__ = (Index("ix_custody_events_person_seq", "person_id", "seq"),)


class CustodyCurrentRow(Base):
    """Projection of the events: each person's current custody. Rebuilt from events by `handover rebuild`."""

    __tablename__ = "custody_current"

    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    estate: Mapped[str] = mapped_column(String(16))
    custodian_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    facility_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    movement_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    origin_id: Mapped[str] = mapped_column(ID)
    last_event_id: Mapped[str] = mapped_column(ID)
    event_count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_custody_current_place", "facility_id", "estate", "status"),
        Index("ix_custody_current_movement", "movement_id"),
    )


class CounterRow(Base):
    """Gapless counters: a row lock (or SQLite's single writer) hands out numbers inside the transaction."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class MetaRow(Base):
    """Operation-wide facts, such as how many people the operation plans to move."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class LogHashRow(Base):
    """The Merkle tree's stored hashes (Go tlog layout: each leaf adds only the hashes it completes). Append-only."""

    __tablename__ = "log_hashes"

    idx: Mapped[int] = mapped_column(Position, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class CheckpointRow(Base):
    """Signed checkpoints, one per tree size ever signed. Append-only: a signed statement is never taken back."""

    __tablename__ = "log_checkpoints"

    size: Mapped[int] = mapped_column(Position, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LegRow(Base):
    """One stretch of a movement. Planned legs change while the movement is draft; actual times are set once."""

    __tablename__ = "legs"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    movement_id: Mapped[str] = mapped_column(ForeignKey("movements.id"))
    number: Mapped[int] = mapped_column(Integer)
    from_id: Mapped[str] = mapped_column(ForeignKey("facilities.id"))
    to_id: Mapped[str] = mapped_column(ForeignKey("facilities.id"))
    mode: Mapped[str] = mapped_column(String(32))
    escort_id: Mapped[str] = mapped_column(ForeignKey("authorities.id"))
    vehicles: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of {"call_sign", "seats"}
    scheduled_departure: Mapped[datetime] = mapped_column(UTCDateTime)
    scheduled_arrival: Mapped[datetime] = mapped_column(UTCDateTime)
    lodging: Mapped[bool] = mapped_column(Boolean, default=False)
    departed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("movement_id", "number", name="uq_legs_movement_number"),)


class BoardingRow(Base):
    """A person counted aboard a leg by the escorting officer."""

    __tablename__ = "boardings"

    leg_id: Mapped[str] = mapped_column(ForeignKey("legs.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    boarded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(ID)


class OfficerRow(Base):
    """An officer who signs handovers, with the Ed25519 public key their signatures are checked against."""

    __tablename__ = "officers"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    authority_id: Mapped[str] = mapped_column(ForeignKey("authorities.id"))
    public_key: Mapped[str] = mapped_column(String(64), unique=True)  # base64 of the 32 raw bytes


class HandoverRow(Base):
    """A handover document and its two signatures. Custody passes only when both verify (state `complete`)."""

    __tablename__ = "handovers"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    movement_id: Mapped[str] = mapped_column(ForeignKey("movements.id"), index=True)
    leg: Mapped[int | None] = mapped_column(Integer, nullable=True)
    place_id: Mapped[str] = mapped_column(ForeignKey("facilities.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_authority_id: Mapped[str] = mapped_column(ForeignKey("authorities.id"))
    to_authority_id: Mapped[str] = mapped_column(ForeignKey("authorities.id"))
    document: Mapped[str] = mapped_column(Text)  # the canonical JSON both officers sign
    digest: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    dispatching_officer_id: Mapped[str | None] = mapped_column(ForeignKey("officers.id"), nullable=True)
    dispatching_signature: Mapped[str | None] = mapped_column(String(128), nullable=True)
    receiving_officer_id: Mapped[str | None] = mapped_column(ForeignKey("officers.id"), nullable=True)
    receiving_signature: Mapped[str | None] = mapped_column(String(128), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IncidentRow(Base):
    """Something that happened on an operation: an escape, a death, use of force, a vehicle breakdown, ..."""

    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    movement_id: Mapped[str | None] = mapped_column(ForeignKey("movements.id"), nullable=True, index=True)
    facility_id: Mapped[str | None] = mapped_column(ForeignKey("facilities.id"), nullable=True)
    people: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of person ids
    description: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(ID)


class OverrideRow(Base):
    """Who overrode which safeguards for a person's manifest event, and why (the event names the actor id only)."""

    __tablename__ = "overrides"

    event_id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    movement_id: Mapped[str] = mapped_column(ForeignKey("movements.id"), index=True)
    safeguards: Mapped[str] = mapped_column(Text)  # comma-separated safeguard codes
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[str] = mapped_column(ID)
    actor_name: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- accounts, the access log, repatriation (issue 6) ------------------------------------------------------------


class AccountRow(Base):
    """A local account: an argon2id password hash, an optional TOTP second factor, one role and its scope."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)  # lower case: how people sign in
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    facility_id: Mapped[str | None] = mapped_column(ForeignKey("facilities.id"), nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    authority_id: Mapped[str | None] = mapped_column(ForeignKey("authorities.id"), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    password_must_change: Mapped[bool] = mapped_column(Boolean)
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ApiTokenRow(Base):
    """An API token for a device or a script: only the SHA-256 of the token is kept; revoked, never deleted."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    grants: Mapped[str] = mapped_column(Text)  # space-separated scope:resource:action
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SessionRow(Base):
    """A browser session: only the SHA-256 of the cookie's secret is kept; ended at sign-out, never deleted."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    stage: Mapped[str] = mapped_column(String(32))  # full, or what the account must do first
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SignInAttemptRow(Base):
    """Sign-in attempts, for throttling per account name and per address (old ones may be pruned)."""

    __tablename__ = "sign_in_attempts"

    id: Mapped[int] = mapped_column(Position, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))  # success, failure, refused (throttled)

    __table_args__ = (
        Index("ix_sign_in_attempts_name_at", "name", "at"),
        Index("ix_sign_in_attempts_address_at", "address", "at"),
    )


class AccessLogRow(Base):
    """Who read whose record, when and why. Append-only; `seq` is a log index, from the same counter as events."""

    __tablename__ = "access_log"

    seq: Mapped[int] = mapped_column(Position, primary_key=True, autoincrement=False)
    reader_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    purpose: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")  # the reason stated in words: here only, never in the log
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_access_log_person_seq", "person_id", "seq"),
        Index("ix_access_log_reader_seq", "reader_id", "seq"),
    )


class RepatriationCaseRow(Base):
    """One person's repatriation to one country; `state_since` is when it entered its current state."""

    __tablename__ = "repatriation_cases"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"))
    country: Mapped[str] = mapped_column(String(2), index=True)
    state: Mapped[str] = mapped_column(String(16))
    state_since: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    authority_id: Mapped[str | None] = mapped_column(ForeignKey("authorities.id"), nullable=True)
    movement_id: Mapped[str | None] = mapped_column(ForeignKey("movements.id"), nullable=True)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("person_id", "country", name="uq_repatriation_cases_person_country"),)


class RepatriationCaseEventRow(Base):
    """Each step of a case: what was done, from which state to which, by whom, why. Append-only."""

    __tablename__ = "repatriation_case_events"

    seq: Mapped[int] = mapped_column(Position, primary_key=True, autoincrement=True)  # the order steps were taken
    id: Mapped[str] = mapped_column(ID, unique=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("repatriation_cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[str] = mapped_column(ID)
    note: Mapped[str] = mapped_column(Text, default="")


class RepatriationRequestRow(Base):
    """A request to a country to take back a group of its nationals (a note verbale, a meeting, a letter)."""

    __tablename__ = "repatriation_requests"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    sent_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(ID)


class RepatriationRequestCaseRow(Base):
    __tablename__ = "repatriation_request_cases"

    request_id: Mapped[str] = mapped_column(ForeignKey("repatriation_requests.id"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("repatriation_cases.id"), primary_key=True, index=True)


class RepatriationDocumentRow(Base):
    """A document attached to a case; the bytes live in the document store under their SHA-256, never a user's name."""

    __tablename__ = "repatriation_documents"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("repatriation_cases.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by: Mapped[str] = mapped_column(ID)


class ReportReleaseRow(Base):
    """A release of the public transparency report: the published document, as it went out. Never changed."""

    __tablename__ = "report_releases"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    checkpoint_size: Mapped[int] = mapped_column(Position)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    document: Mapped[bytes] = mapped_column(LargeBinary)


APPEND_ONLY_TABLES = (
    "custody_events",
    "log_hashes",
    "log_checkpoints",
    "access_log",
    "repatriation_case_events",
    "report_releases",
)
