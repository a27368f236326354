"""The database schema. Alembic migrations must match it exactly (a test compares them)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
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


APPEND_ONLY_TABLES = ("custody_events", "log_hashes", "log_checkpoints")
