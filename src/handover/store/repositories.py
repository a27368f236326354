"""SQL implementations of the repositories services use (SQLAlchemy Core on one connection)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from handover.core.access import leaf as access_leaf
from handover.core.custody import Authority, CustodyEvent, EventType, Facility, PersonState, leaf
from handover.core.custody.movements import Movement, MovementState, Route
from handover.core.policy.access import Purpose
from handover.services.ports import (
    CurrentCustody,
    EntriesMismatch,
    PersonRecord,
    PlaceCount,
    StoredCheckpoint,
    StoredEvent,
)
from handover.store import mapping
from handover.store.tables import (
    AccessLogRow,
    AuthorityRow,
    CheckpointRow,
    CounterRow,
    CustodyCurrentRow,
    CustodyEventRow,
    FacilityRow,
    LogHashRow,
    MetaRow,
    MovementRow,
    PersonRow,
    RouteRow,
)

authorities_t = AuthorityRow.__table__
facilities_t = FacilityRow.__table__
routes_t = RouteRow.__table__
persons_t = PersonRow.__table__
movements_t = MovementRow.__table__
events_t = CustodyEventRow.__table__
current_t = CustodyCurrentRow.__table__
counters_t = CounterRow.__table__
meta_t = MetaRow.__table__
hashes_t = LogHashRow.__table__
checkpoints_t = CheckpointRow.__table__
access_t = AccessLogRow.__table__

# SQLite allows at most 32,766 bound parameters; IN lists are chunked below that.
_IN_CHUNK = 2000
_EVENTS_COUNTER = "events"


def in_chunks(items: Sequence[str], size: int = _IN_CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SqlReference:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_authorities(self, authorities: Iterable[Authority]) -> None:
        rows = [mapping.authority_row(a) for a in authorities]
        if rows:
            self._c.execute(insert(authorities_t), rows)

    def add_facilities(self, facilities: Iterable[Facility]) -> None:
        rows = [mapping.facility_row(f) for f in facilities]
        if rows:
            self._c.execute(insert(facilities_t), rows)

    def add_routes(self, routes: Iterable[Route]) -> None:
        rows = [mapping.route_row(r) for r in routes]
        if rows:
            self._c.execute(insert(routes_t), rows)

    def authorities(self) -> list[Authority]:
        rows = self._c.execute(select(authorities_t).order_by(authorities_t.c.id)).mappings()
        return [mapping.authority(r) for r in rows]

    def facilities(self) -> list[Facility]:
        rows = self._c.execute(select(facilities_t).order_by(facilities_t.c.id)).mappings()
        return [mapping.facility(r) for r in rows]

    def routes(self) -> list[Route]:
        rows = self._c.execute(select(routes_t).order_by(routes_t.c.id)).mappings()
        return [mapping.route(r) for r in rows]

    def facility(self, facility_id: str) -> Facility | None:
        row = self._c.execute(select(facilities_t).where(facilities_t.c.id == facility_id)).mappings().first()
        return mapping.facility(row) if row else None

    def authority(self, authority_id: str) -> Authority | None:
        row = self._c.execute(select(authorities_t).where(authorities_t.c.id == authority_id)).mappings().first()
        return mapping.authority(row) if row else None

    def route(self, route_id: str) -> Route | None:
        row = self._c.execute(select(routes_t).where(routes_t.c.id == route_id)).mappings().first()
        return mapping.route(row) if row else None


class SqlPersons:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, records: Sequence[PersonRecord]) -> None:
        if records:
            self._c.execute(insert(persons_t), [mapping.person_row(p) for p in records])

    def get(self, person_id: str) -> PersonRecord | None:
        row = self._c.execute(select(persons_t).where(persons_t.c.id == person_id)).mappings().first()
        return mapping.person(row) if row else None

    def existing(self, person_ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for chunk in in_chunks(list(person_ids)):
            found.update(self._c.execute(select(persons_t.c.id).where(persons_t.c.id.in_(chunk))).scalars())
        return found

    def count(self) -> int:
        return int(self._c.execute(select(func.count()).select_from(persons_t)).scalar_one())

    def all(self) -> list[PersonRecord]:
        rows = self._c.execute(select(persons_t).order_by(persons_t.c.id)).mappings()
        return [mapping.person(r) for r in rows]


class SqlMovements:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, movement: Movement) -> None:
        self._c.execute(insert(movements_t), [mapping.movement_row(movement)])

    def get(self, movement_id: str) -> Movement | None:
        row = self._c.execute(select(movements_t).where(movements_t.c.id == movement_id)).mappings().first()
        return mapping.movement(row) if row else None

    def by_code(self, code: str) -> Movement | None:
        row = self._c.execute(select(movements_t).where(movements_t.c.code == code)).mappings().first()
        return mapping.movement(row) if row else None

    def set_state(self, movement_id: str, state: MovementState) -> None:
        self._c.execute(update(movements_t).where(movements_t.c.id == movement_id).values(state=state.value))

    def all(self) -> list[Movement]:
        rows = self._c.execute(select(movements_t).order_by(movements_t.c.scheduled_at, movements_t.c.code))
        return [mapping.movement(r) for r in rows.mappings()]


class SqlCustody:
    def __init__(self, connection: Connection, lock_rows: bool = False) -> None:
        self._c = connection
        self._lock = lock_rows

    def states(self, person_ids: Iterable[str]) -> dict[str, PersonState]:
        """The people's current custody. In a writing unit of work the rows stay locked until it ends (PostgreSQL;
        SQLite has one writer anyway), so two officers acting on one person at once are decided one after the
        other, never both against the same state. Sorted ids lock in one order, so writers cannot deadlock."""
        found: dict[str, PersonState] = {}
        for chunk in in_chunks(sorted(set(person_ids))):
            query = select(current_t).where(current_t.c.person_id.in_(chunk)).order_by(current_t.c.person_id)
            rows = self._c.execute(query.with_for_update() if self._lock else query).mappings()
            for row in rows:
                found[row["person_id"]] = mapping.state(row)
        return found

    def current(self, person_id: str) -> CurrentCustody | None:
        row = self._c.execute(select(current_t).where(current_t.c.person_id == person_id)).mappings().first()
        return mapping.current(row) if row else None

    def on_movement(self, movement_id: str) -> list[PersonState]:
        rows = self._c.execute(
            select(current_t).where(current_t.c.movement_id == movement_id).order_by(current_t.c.person_id)
        ).mappings()
        return [mapping.state(r) for r in rows]

    def _reserve(self, count: int) -> int:
        """Take `count` consecutive log indexes inside this transaction; returns the first."""
        stmt = (
            update(counters_t)
            .where(counters_t.c.name == _EVENTS_COUNTER)
            .values(value=counters_t.c.value + count)
            .returning(counters_t.c.value)
        )
        end = int(self._c.execute(stmt).scalar_one())
        return end - count

    def append(self, events: Sequence[CustodyEvent], states: Mapping[str, PersonState]) -> list[int]:
        if not events:
            return []
        first = self._reserve(len(events))
        seqs = list(range(first, first + len(events)))
        rows = [mapping.event_row(s, e) for s, e in zip(seqs, events, strict=True)]
        _executemany(self._c, events_t.name, rows)
        origins = {e.person_id: e.facility_id for e in events if e.type is EventType.REGISTERED}
        new = [
            mapping.current_row(CurrentCustody(state=s, origin_id=origins[pid]))
            for pid, s in states.items()
            if pid in origins
        ]
        if new:
            _executemany(self._c, current_t.name, new)
        changed = [_update_params(s) for pid, s in states.items() if pid not in origins]
        if changed:
            self._c.execute(_UPDATE_CURRENT, changed)
        return seqs

    def chain(self, person_id: str) -> list[StoredEvent]:
        rows = self._c.execute(
            select(events_t).where(events_t.c.person_id == person_id).order_by(events_t.c.seq)
        ).mappings()
        return [StoredEvent(seq=r["seq"], event=mapping.event(r)) for r in rows]

    def by_event_id(self, event_id: str) -> StoredEvent | None:
        row = self._c.execute(select(events_t).where(events_t.c.event_id == event_id)).mappings().first()
        return StoredEvent(seq=row["seq"], event=mapping.event(row)) if row else None

    def page(self, after_seq: int, limit: int, descending: bool = False) -> list[StoredEvent]:
        query = select(events_t)
        if descending:
            query = query.where(events_t.c.seq < after_seq).order_by(events_t.c.seq.desc())
        else:
            query = query.where(events_t.c.seq > after_seq).order_by(events_t.c.seq)
        rows = self._c.execute(query.limit(limit)).mappings()
        return [StoredEvent(seq=r["seq"], event=mapping.event(r)) for r in rows]

    def size(self) -> int:
        # Straight to the driver: a constant statement, read by most pages and proofs, and SQLAlchemy's building and
        # compiling of the statement costs more than the read.
        return int(self._c.exec_driver_sql(_SIZE_SQL).scalar_one())

    def last_custody_index(self) -> int:
        found = self._c.execute(select(func.max(events_t.c.seq))).scalar_one_or_none()
        return int(found) if found is not None else -1

    def place_counts(self) -> list[PlaceCount]:
        c = current_t.c
        stmt = select(c.facility_id, c.movement_id, c.estate, c.status, c.origin_id, func.count().label("n")).group_by(
            c.facility_id, c.movement_id, c.estate, c.status, c.origin_id
        )
        return [
            PlaceCount(r.facility_id, r.movement_id, r.estate, r.status, r.origin_id, int(r.n))
            for r in self._c.execute(stmt)
        ]

    def all_events(self) -> Iterator[StoredEvent]:
        # Streamed in chunks; the option goes on the statement, not the connection, so later queries are unaffected.
        result = self._c.execute(select(events_t).order_by(events_t.c.seq).execution_options(yield_per=5000))
        for row in result.mappings():
            yield StoredEvent(seq=row["seq"], event=mapping.event(row))

    def replace_projection(self, rows: Sequence[CurrentCustody]) -> None:
        self._c.execute(delete(current_t))
        if rows:
            self._c.execute(insert(current_t), [mapping.current_row(r) for r in rows])

    def projection(self) -> list[CurrentCustody]:
        rows = self._c.execute(select(current_t).order_by(current_t.c.person_id)).mappings()
        return [mapping.current(r) for r in rows]


def _executemany(connection: Connection, table: str, rows: Sequence[Mapping[str, object]]) -> None:
    """Insert many rows through the driver's own executemany.

    The hot path of every custody write: SQLAlchemy's per-row parameter processing costs more than the insert itself.
    Values are already plain (mapping.* produce them), apart from datetimes, converted as SQLAlchemy would.
    """
    columns = list(rows[0])
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(marker for _ in columns)})"
    values = [tuple(row[c] for c in columns) for row in rows]
    if connection.dialect.name == "sqlite":
        times = [i for i, c in enumerate(columns) if isinstance(rows[0][c], datetime)]
        if times:
            values = [_sqlite_times(v, times) for v in values]
    connection.exec_driver_sql(sql, values)


def _sqlite_times(values: tuple[object, ...], positions: list[int]) -> tuple[object, ...]:
    converted = list(values)
    for i in positions:
        converted[i] = _sqlite_time(converted[i])  # type: ignore[arg-type]
    return tuple(converted)


@lru_cache(maxsize=4096)
def _sqlite_time(value: datetime) -> str:
    # Exactly SQLAlchemy's SQLite storage format for UTCDateTime, so reads parse it back unchanged.
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


_UPDATE_CURRENT = (
    update(current_t)
    .where(current_t.c.person_id == bindparam("pid"))
    .values(
        status=bindparam("status"),
        custodian_id=bindparam("custodian_id"),
        facility_id=bindparam("facility_id"),
        movement_id=bindparam("movement_id"),
        last_event_id=bindparam("last_event_id"),
        event_count=bindparam("event_count"),
    )
)


def _update_params(s: PersonState) -> dict[str, object]:
    return {
        "pid": s.person_id,
        "status": s.status.value,
        "custodian_id": s.custodian_id,
        "facility_id": s.facility_id,
        "movement_id": s.movement_id,
        "last_event_id": s.last_event_id,
        "event_count": s.event_count,
    }


_SIZE_SQL = f"SELECT value FROM {counters_t.name} WHERE name = '{_EVENTS_COUNTER}'"


@lru_cache(maxsize=256)
def _read_hashes_sql(marker: str, count: int) -> str:
    return f"SELECT idx, hash FROM {hashes_t.name} WHERE idx IN ({', '.join([marker] * count)})"


class SqlLog:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        found: dict[int, bytes] = {}
        wanted = sorted(set(indexes))
        marker = "?" if self._c.dialect.paramstyle == "qmark" else "%s"
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            # Straight to the driver: every proof and tile is read here, and building and compiling the statement
            # in SQLAlchemy costs more than the lookups themselves.
            rows = self._c.exec_driver_sql(_read_hashes_sql(marker, len(chunk)), tuple(chunk)).all()
            found.update((int(i), bytes(h)) for i, h in rows)
        missing = [i for i in wanted if i not in found]
        if missing:
            raise LookupError(f"stored hashes missing from the log: {missing[:5]}")
        return [found[i] for i in indexes]

    def append_hashes(self, first_index: int, hashes: Sequence[bytes]) -> None:
        if hashes:
            # Straight to the driver as tuples: two plain values a row, nothing for SQLAlchemy to process.
            marker = "?" if self._c.dialect.paramstyle == "qmark" else "%s"
            self._c.exec_driver_sql(
                f"INSERT INTO {hashes_t.name} (idx, hash) VALUES ({marker}, {marker})",
                list(zip(range(first_index, first_index + len(hashes)), hashes, strict=True)),
            )

    def hash_count(self) -> int:
        return int(self._c.execute(select(func.count()).select_from(hashes_t)).scalar_one())

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        row = self._c.execute(select(checkpoints_t).order_by(checkpoints_t.c.size.desc()).limit(1)).mappings().first()
        return _checkpoint(row) if row else None

    def checkpoint(self, size: int) -> StoredCheckpoint | None:
        row = self._c.execute(select(checkpoints_t).where(checkpoints_t.c.size == size)).mappings().first()
        return _checkpoint(row) if row else None

    def has_checkpoint_between(self, low: int, high: int) -> bool:
        query = select(checkpoints_t.c.size).where(checkpoints_t.c.size.between(low, high)).limit(1)
        return self._c.execute(query).first() is not None

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        self._c.execute(
            insert(checkpoints_t).values(
                size=checkpoint.size, root=checkpoint.root, note=checkpoint.note, signed_at=checkpoint.signed_at
            )
        )

    def entries(self, start: int, stop: int) -> list[bytes]:
        """Custody events and access entries merged by log index: one query per table (a bundle is 256 entries)."""
        if stop <= start:
            return []
        events = select(events_t).where(events_t.c.seq >= start, events_t.c.seq < stop).order_by(events_t.c.seq)
        found = [(row["seq"], leaf.encode(mapping.event(row))) for row in self._c.execute(events).mappings()]
        a = access_t.c
        reads = select(a.seq, a.reader_id, a.person_id, a.purpose, a.at).where(a.seq >= start, a.seq < stop)
        found += [
            (seq, access_leaf.encode(access_leaf.AccessEntry(reader, person, Purpose(purpose), at)))
            for seq, reader, person, purpose, at in self._c.execute(reads.order_by(a.seq))
        ]
        found.sort(key=itemgetter(0))  # two sorted runs; stable, so a custody event comes first on a shared index
        entries = [data for _, data in found]
        seqs = [seq for seq, _ in found]
        if seqs != list(range(start, stop)):
            raise _mismatch(seqs, start, entries)
        return entries


def _mismatch(seqs: Sequence[int], start: int, entries: Sequence[bytes]) -> EntriesMismatch:
    """The first index of a range that sorted `seqs` (all within it) do not hold exactly once."""
    previous = start - 1
    for seq in seqs:
        if seq == previous:
            return EntriesMismatch(
                seq,
                f"log index {seq}: held by both a custody event and an access entry: the stored tree and the "
                "entries disagree",
                entries,
            )
        if seq > previous + 1:
            break
        previous = seq
    missing = previous + 1
    return EntriesMismatch(
        missing,
        f"log index {missing}: no custody event or access entry holds it: the stored tree and the entries disagree",
        entries,
    )


def _checkpoint(row: Mapping[str, Any]) -> StoredCheckpoint:
    return StoredCheckpoint(int(row["size"]), bytes(row["root"]), row["note"], row["signed_at"])


class SqlMeta:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def get(self, key: str) -> str | None:
        value = self._c.execute(select(meta_t.c.value).where(meta_t.c.key == key)).scalar_one_or_none()
        return None if value is None else str(value)

    def put(self, key: str, value: str) -> None:
        if self.get(key) is None:
            self._c.execute(insert(meta_t).values(key=key, value=value))
        else:
            self._c.execute(update(meta_t).where(meta_t.c.key == key).values(value=value))
