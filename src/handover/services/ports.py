"""What services need from storage. `handover.store` implements these; services never import it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Protocol

from handover.core.custody import Authority, CustodyEvent, Facility, PersonState
from handover.core.custody.identity import Identity
from handover.core.custody.movements import Leg, Movement, MovementState, Route


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event with its place in the single total order (its log index)."""

    seq: int
    event: CustodyEvent


@dataclass(frozen=True, slots=True)
class PersonRecord:
    id: str
    identity: Identity
    estate: str
    identity_salt: str
    identity_commitment: str


@dataclass(frozen=True, slots=True)
class CurrentCustody:
    """One person's row of the custody projection."""

    state: PersonState
    origin_id: str


@dataclass(frozen=True, slots=True)
class PlaceCount:
    facility_id: str | None
    movement_id: str | None
    estate: str
    status: str
    origin_id: str
    count: int


class ReferenceRepository(Protocol):
    def add_authorities(self, authorities: Iterable[Authority]) -> None: ...
    def add_facilities(self, facilities: Iterable[Facility]) -> None: ...
    def add_routes(self, routes: Iterable[Route]) -> None: ...
    def authorities(self) -> list[Authority]: ...
    def facilities(self) -> list[Facility]: ...
    def routes(self) -> list[Route]: ...
    def facility(self, facility_id: str) -> Facility | None: ...
    def authority(self, authority_id: str) -> Authority | None: ...
    def route(self, route_id: str) -> Route | None: ...


class PersonRepository(Protocol):
    def add(self, records: Sequence[PersonRecord]) -> None: ...
    def get(self, person_id: str) -> PersonRecord | None: ...
    def existing(self, person_ids: Iterable[str]) -> set[str]: ...
    def count(self) -> int: ...
    def all(self) -> list[PersonRecord]: ...


class MovementRepository(Protocol):
    def add(self, movement: Movement) -> None: ...
    def get(self, movement_id: str) -> Movement | None: ...
    def by_code(self, code: str) -> Movement | None: ...
    def set_state(self, movement_id: str, state: MovementState) -> None: ...
    def all(self) -> list[Movement]: ...


class CustodyRepository(Protocol):
    def states(self, person_ids: Iterable[str]) -> dict[str, PersonState]: ...
    def current(self, person_id: str) -> CurrentCustody | None: ...
    def on_movement(self, movement_id: str) -> list[PersonState]: ...
    def append(self, events: Sequence[CustodyEvent], states: Mapping[str, PersonState]) -> list[int]: ...
    def chain(self, person_id: str) -> list[StoredEvent]: ...
    def by_event_id(self, event_id: str) -> StoredEvent | None: ...
    def page(self, after_seq: int, limit: int, descending: bool = False) -> list[StoredEvent]: ...
    def size(self) -> int: ...
    def last_custody_index(self) -> int:
        """The log index of the newest custody event (-1: none). Custody changes move it; reads of records (access
        entries, which grow the log's size too) do not: what a cache of anything derived from custody keys on."""
        ...

    def place_counts(self) -> list[PlaceCount]: ...
    def all_events(self) -> Iterable[StoredEvent]: ...
    def replace_projection(self, rows: Sequence[CurrentCustody]) -> None: ...
    def projection(self) -> list[CurrentCustody]: ...


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: str
    signed_at: datetime


class LogRepository(Protocol):
    """The Merkle tree's stored hashes and signed checkpoints (written in the same transaction as the events)."""

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]: ...
    def append_hashes(self, first_index: int, hashes: Sequence[bytes]) -> None: ...
    def hash_count(self) -> int: ...
    def latest_checkpoint(self) -> StoredCheckpoint | None: ...
    def checkpoint(self, size: int) -> StoredCheckpoint | None: ...
    def has_checkpoint_between(self, low: int, high: int) -> bool: ...
    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None: ...
    def entries(self, start: int, stop: int) -> list[bytes]:
        """The log's entries at indexes [start, stop), in index order: each the canonical leaf of a custody event or
        of an access entry, whichever holds that index. Raises `EntriesMismatch` naming the first index that no
        entry holds (or two do): the stored tree and the entries disagree."""
        ...


class EntriesMismatch(LookupError):
    """The stored entries do not hold each log index of a range exactly once (a row deleted, or one index stored
    in both tables): `index` is the first such index, `entries` what is stored in the range, in index order."""

    def __init__(self, index: int, message: str, entries: Sequence[bytes]) -> None:
        super().__init__(message)
        self.index = index
        self.entries = list(entries)


@dataclass(frozen=True, slots=True)
class Officer:
    id: str
    name: str
    authority_id: str
    public_key: str


@dataclass(frozen=True, slots=True)
class HandoverRecord:
    """A handover document as stored, with whichever signatures it has so far."""

    id: str
    movement_id: str
    leg: int | None
    place_id: str
    occurred_at: datetime
    from_authority_id: str
    to_authority_id: str
    document: str
    digest: str
    state: str
    opened_at: datetime
    dispatching_officer_id: str | None = None
    dispatching_signature: str | None = None
    receiving_officer_id: str | None = None
    receiving_signature: str | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    kind: str
    occurred_at: datetime
    recorded_at: datetime
    movement_id: str | None
    facility_id: str | None
    people: tuple[str, ...]
    description: str
    recorded_by: str


@dataclass(frozen=True, slots=True)
class Override:
    event_id: str
    person_id: str
    movement_id: str
    safeguards: str
    reason: str
    actor_id: str
    actor_name: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Admission:
    """A person's latest admission, and whether their family has been notified since."""

    person_id: str
    facility_id: str
    admitted_at: datetime
    seq: int


class OperationsRepository(Protocol):
    """Legs, boardings, handovers, officers, incidents and overrides: the operational records around custody."""

    def add_legs(self, legs: Sequence[Leg]) -> None: ...
    def legs(self, movement_id: str) -> list[Leg]: ...
    def replace_legs(self, movement_id: str, legs: Sequence[Leg]) -> None: ...
    def set_leg_times(self, leg_id: str, departed_at: datetime | None, arrived_at: datetime | None) -> None: ...
    def board(self, leg_id: str, person_ids: Sequence[str], at: datetime, recorded_by: str) -> None: ...
    def unboard(self, leg_id: str, person_ids: Sequence[str]) -> None: ...
    def boarded(self, leg_id: str) -> set[str]: ...
    def add_officer(self, officer: Officer) -> None: ...
    def officer(self, officer_id: str) -> Officer | None: ...
    def officer_by_key(self, public_key: str) -> Officer | None: ...
    def officers(self) -> list[Officer]: ...
    def add_handover(self, record: HandoverRecord) -> None: ...
    def handover(self, handover_id: str) -> HandoverRecord | None: ...
    def update_handover(self, record: HandoverRecord) -> None: ...
    def handovers(self, movement_id: str | None = None, state: str | None = None) -> list[HandoverRecord]: ...
    def add_incident(self, incident: Incident) -> None: ...
    def incidents(self, movement_id: str | None = None, kinds: Iterable[str] | None = None) -> list[Incident]: ...
    def add_overrides(self, overrides: Sequence[Override]) -> None: ...
    def overrides(self, movement_id: str) -> list[Override]: ...
    def assessments(self, person_ids: Iterable[str]) -> dict[str, dict[str, str]]:
        """Each person's latest outcome per assessment kind, in log order (corrected assessments left out)."""
        ...

    def movement_events(self, movement_id: str) -> list[StoredEvent]:
        """Every event of every person ever manifested on the movement, from their manifest on, in log order."""
        ...

    def unnotified_admissions(self) -> list[Admission]: ...
    def latest_occurred_at(self) -> datetime | None: ...
    def events_between(self, start: datetime, end: datetime) -> list[StoredEvent]:
        """Events that occurred in [start, end), in log order."""
        ...


class MetaRepository(Protocol):
    def get(self, key: str) -> str | None: ...
    def put(self, key: str, value: str) -> None: ...


class UnitOfWork(Protocol):
    """One transaction. Services use it and never commit; the caller commits or rolls back."""

    @property
    def reference(self) -> ReferenceRepository: ...
    @property
    def persons(self) -> PersonRepository: ...
    @property
    def movements(self) -> MovementRepository: ...
    @property
    def custody(self) -> CustodyRepository: ...
    @property
    def meta(self) -> MetaRepository: ...
    @property
    def log(self) -> LogRepository: ...
    @property
    def operations(self) -> OperationsRepository: ...

    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def __enter__(self) -> UnitOfWork: ...
    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...


# --- accounts, the access log and repatriation (issue 6) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    """A local account. `password_hash` is argon2id's encoded string; `totp_secret` is kept only while a second
    factor is being set up or in use; `role` is a `handover.core.policy.access.Role` value."""

    id: str
    name: str
    display_name: str
    role: str
    facility_id: str | None
    country: str | None
    authority_id: str | None
    password_hash: str
    password_must_change: bool
    created_at: datetime
    totp_secret: bytes | None = None
    totp_confirmed: bool = False
    totp_last_step: int | None = None
    disabled_at: datetime | None = None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An API token as stored: its SHA-256, never the token. `grants` are `scope:resource:action` strings."""

    id: str
    account_id: str
    label: str
    token_hash: str
    grants: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class WebSession:
    """A browser session as stored: the SHA-256 of the cookie's secret, never the secret. `stage` is `full`, or what
    the account must do before anything else (`change-password`, `set-up-second-factor`)."""

    id: str
    account_id: str
    token_hash: str
    stage: str
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One read of one person's record. `seq` is its log index (shared with custody events)."""

    seq: int
    reader_id: str
    person_id: str
    purpose: str
    note: str
    at: datetime


class AccountRepository(Protocol):
    def add(self, account: Account) -> None: ...
    def get(self, account_id: str) -> Account | None: ...
    def by_name(self, name: str) -> Account | None: ...
    def update(self, account: Account) -> None: ...
    def all(self) -> list[Account]: ...
    def count(self) -> int: ...
    def add_token(self, token: ApiToken) -> None: ...
    def token(self, token_id: str) -> ApiToken | None: ...
    def token_by_hash(self, token_hash: str) -> ApiToken | None: ...
    def tokens(self, account_id: str) -> list[ApiToken]: ...
    def revoke_token(self, token_id: str, at: datetime) -> None: ...
    def add_session(self, session: WebSession) -> None: ...
    def session_by_hash(self, token_hash: str) -> WebSession | None: ...
    def set_session_stage(self, session_id: str, stage: str) -> None: ...
    def end_session(self, session_id: str, at: datetime) -> None: ...
    def end_sessions_of(self, account_id: str, at: datetime) -> int: ...
    def add_attempt(self, name: str, address: str, at: datetime, outcome: str) -> None: ...
    def failures(self, *, name: str | None = None, address: str | None = None, since: datetime) -> list[datetime]:
        """Times of failed attempts for the name (or from the address) after `since` and after the last success."""
        ...

    def prune_attempts(self, before: datetime) -> int: ...


class AccessLogRepository(Protocol):
    def append(
        self, reader_id: str, person_ids: Sequence[str], purpose: str, note: str, at: datetime
    ) -> list[AccessRecord]:
        """Store the reads, taking their log indexes from the counter custody events use, in this transaction."""
        ...

    def for_person(self, person_id: str, limit: int = 100) -> list[AccessRecord]: ...
    def by_reader(self, reader_id: str, limit: int = 100) -> list[AccessRecord]: ...
    def latest(self, limit: int = 100) -> list[AccessRecord]: ...
    def page(self, after_seq: int, limit: int) -> list[AccessRecord]: ...
    def between(self, start: int, stop: int) -> list[AccessRecord]:
        """The reads at log indexes [start, stop), in log order."""
        ...


@dataclass(frozen=True, slots=True)
class RepatriationCase:
    id: str
    person_id: str
    country: str
    state: str  # a `handover.core.repatriation.cases.CaseState` value
    state_since: datetime
    opened_at: datetime
    authority_id: str | None = None  # the country's authority that receives the person
    movement_id: str | None = None  # the movement that carries them out, once scheduled
    scheduled_for: datetime | None = None


@dataclass(frozen=True, slots=True)
class CaseEvent:
    id: str
    case_id: str
    action: str
    from_state: str | None
    to_state: str
    at: datetime
    actor_id: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class RepatriationRequest:
    id: str
    country: str
    sent_on: date
    reference: str
    notes: str
    created_at: datetime
    created_by: str
    case_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseDocument:
    id: str
    case_id: str
    sha256: str
    media_type: str
    size: int
    title: str
    uploaded_at: datetime
    uploaded_by: str


class RepatriationRepository(Protocol):
    def add_case(self, case: RepatriationCase) -> None: ...
    def case(self, case_id: str) -> RepatriationCase | None: ...
    def case_for(self, person_id: str, country: str) -> RepatriationCase | None: ...
    def update_case(self, case: RepatriationCase) -> None: ...
    def cases(
        self,
        country: str | None = None,
        states: Iterable[str] | None = None,
        countries: Iterable[str] | None = None,
    ) -> list[RepatriationCase]: ...
    def person_cases(self, person_id: str) -> list[RepatriationCase]: ...
    def add_case_event(self, event: CaseEvent) -> None: ...
    def case_events(self, case_id: str) -> list[CaseEvent]: ...
    def add_request(self, request: RepatriationRequest) -> None: ...
    def request(self, request_id: str) -> RepatriationRequest | None: ...
    def requests(self, country: str | None = None) -> list[RepatriationRequest]: ...
    def add_document(self, document: CaseDocument) -> None: ...
    def document(self, document_id: str) -> CaseDocument | None: ...
    def documents(self, case_id: str) -> list[CaseDocument]: ...
    def person_ids_in(self, states: Iterable[str]) -> set[str]: ...


class BlobStore(Protocol):
    """Where document bytes live, by the SHA-256 of their content (not transactional: written before the row)."""

    def put(self, data: bytes) -> str: ...
    def get(self, sha256: str) -> bytes: ...


@dataclass(frozen=True, slots=True)
class StoredRelease:
    """A release of the public report as published: its number, the checkpoint size it stands on, the document."""

    number: int
    checkpoint_size: int
    published_at: datetime
    document: bytes


class ReportRepository(Protocol):
    """Releases of the public report, append-only."""

    def add(self, release: StoredRelease) -> None: ...
    def get(self, number: int) -> StoredRelease | None: ...
    def latest(self) -> StoredRelease | None: ...
    def all(self) -> list[StoredRelease]: ...


class AccountsUnitOfWork(UnitOfWork, Protocol):
    """The unit of work with the repositories of issue 6 (fold these into `UnitOfWork` once it settles)."""

    @property
    def accounts(self) -> AccountRepository: ...
    @property
    def access_log(self) -> AccessLogRepository: ...
    @property
    def repatriation(self) -> RepatriationRepository: ...
    @property
    def reports(self) -> ReportRepository: ...

    def __enter__(self) -> AccountsUnitOfWork: ...
