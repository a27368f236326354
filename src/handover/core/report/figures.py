"""The report's figures, counted from custody events in log order: what anyone holding the entries can recount.

`count(events, attributes)` folds every person's events (as the custody machine does) and counts them into the raw
tables of the report, one `RawTable` each, keyed by raw category (a week, a facility id, an estate...), before any
category is merged or any cell suppressed. The publisher counts from the log entries 0 to N-1 of a checkpoint; the
monitor's `handover verify --report` counts from the same entries with the same function, so each published figure
can be checked exactly.

What each figure means:

- *moved*: a person admitted at a facility other than the one they were registered at; counted once, at the first
  such admission (its week, in ISO week numbering of the UTC date, and that facility).
- *held*: people whose custody status is held, by facility and estate (now: a stock, not cumulative).
- *repatriated*: people handed to a country of origin (`repatriated` events), by receiving authority and by the
  estate they were registered in.
- *awaiting safeguards*: people held where they were registered whose latest assessment of some kind in
  `safeguards.PASSING` is missing or not passing (not fit to travel yet, legal review not cleared), by that facility
  and the estate they are held in: each of them is counted in the held table's cell of the same keys too.
- *incidents*: escapes, recaptures, deaths and hospital admissions, counted as events, operation-wide only.

Events a correction voided are left out of every figure, as they are out of the person's custody.

Sex and age (the nationality table) are not in the log: the log names people by random id only. They come from the
identity records (`Attributes`), which a monitor checks against the salted commitment each registration logged, so
the nationality table is verifiable by a monitor given the identity records, and by no one else.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from handover.core.custody.events import CustodyEvent, EventType
from handover.core.custody.machine import fold
from handover.core.custody.model import ADULT_AGE, Estate, Sex
from handover.core.custody.refusals import Refused
from handover.core.custody.state import Status
from handover.core.policy.safeguards import PASSING


@dataclass(frozen=True, slots=True)
class Attributes:
    """What the nationality table needs of a person's identity record, and nothing more."""

    nationality: str
    """First nationality, ISO 3166 alpha-2; "" when unknown."""
    sex: Sex
    birth_date: date | None


UNKNOWN_NATIONALITY = "unknown"


# Sex and age groups, the nationality table's columns.
MEN, WOMEN, BOYS, GIRLS = "men", "women", "boys", "girls"
GROUPS = (MEN, WOMEN, BOYS, GIRLS)
ESTATES = tuple(estate.value for estate in Estate)
INCIDENTS = (EventType.ESCAPED, EventType.RECAPTURED, EventType.DIED, EventType.HOSPITALISED)


@dataclass(frozen=True, slots=True)
class RawTable:
    """True counts by raw row and column key, before merging and suppression.

    `rows` and `columns` are in the order they are published (weeks in time order, the rest sorted); `cumulative`
    tables only grow as the log grows, so successive releases can be checked against each other.
    """

    name: str
    rows_are: str
    columns_are: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    counts: Mapping[tuple[str, str], int]
    cumulative: bool
    needs_identities: bool = False

    def count(self, row: str, column: str) -> int:
        return self.counts.get((row, column), 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything the report publishes, as true counts."""

    counts: Mapping[str, int]
    """Operation-wide counts, published exactly (see `COUNTS`)."""
    tables: tuple[RawTable, ...]
    as_of: datetime | None
    """When the newest counted event happened (None for an empty log)."""

    def table(self, name: str) -> RawTable:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)


COUNTS = (
    "registered",
    "moved",
    "held",
    "in_transit",
    "repatriated",
    "released",
    *(kind.value for kind in INCIDENTS),
    "awaiting_safeguards",
)

MOVED_BY_WEEK = "moved_by_week_and_destination"
MOVED_BY_NATIONALITY = "moved_by_nationality_and_group"
HELD = "held_by_facility_and_estate"
REPATRIATED = "repatriated_by_country_and_estate"
AWAITING = "awaiting_safeguards_by_facility_and_estate"
TABLES = (MOVED_BY_WEEK, MOVED_BY_NATIONALITY, HELD, REPATRIATED, AWAITING)


def iso_week(moment: datetime) -> str:
    """ "2026-W05": the ISO year and week of the moment's UTC date (weeks start on Monday)."""
    year, week, _ = moment.date().isocalendar()
    return f"{year}-W{week:02d}"


def group_of(attributes: Attributes | None, estate: Estate, on: date) -> str:
    """Sex and age group on a day; without a birth date, or without a record, the estate registered says it."""
    if attributes is not None and attributes.birth_date is not None:
        born = attributes.birth_date
        age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
        adult = age >= ADULT_AGE
        male = attributes.sex is Sex.MALE
    else:
        adult = estate is not Estate.MINORS
        male = attributes.sex is Sex.MALE if attributes is not None else estate is Estate.ADULT_MEN
    if adult:
        return MEN if male else WOMEN
    return BOYS if male else GIRLS


@dataclass
class _Person:
    """What the figures need of one person's chain."""

    events: list[CustodyEvent] = field(default_factory=list)
    voided: set[str] = field(default_factory=set)


class ChainRefused(ValueError):
    """A person's chain the custody machine refuses: no figures can be counted from such a log."""


def count(
    events: Iterable[CustodyEvent],
    attributes: Mapping[str, Attributes] | None = None,
) -> Figures:
    """Count the report's figures from custody events in log order.

    `attributes` (person id -> identity attributes) fills the nationality table; None leaves it out, as it is for
    anyone without the identity records. Raises `ChainRefused` when a chain does not fold.
    """
    people: dict[str, _Person] = defaultdict(_Person)
    incidents: Counter[str] = Counter()
    as_of: datetime | None = None
    for event in events:
        person = people[event.person_id]
        person.events.append(event)
        if event.type is EventType.CORRECTED and event.corrects:
            person.voided.add(event.corrects)
        if as_of is None or event.occurred_at > as_of:
            as_of = event.occurred_at

    by_week: Counter[tuple[str, str]] = Counter()
    by_nationality: Counter[tuple[str, str]] = Counter()
    held: Counter[tuple[str, str]] = Counter()
    repatriated: Counter[tuple[str, str]] = Counter()
    awaiting: Counter[tuple[str, str]] = Counter()
    statuses: Counter[Status] = Counter()
    moved = 0

    for person_id, person in people.items():
        state = fold(person.events)
        if isinstance(state, Refused):
            raise ChainRefused(f"person {person_id}: the custody machine refuses their chain: {state.message}")
        statuses[state.status] += 1
        live = [event for event in person.events if event.event_id not in person.voided]
        registration = live[0]
        origin = registration.facility_id or ""
        estate = Estate(registration.required("estate"))
        outcomes: dict[str, str] = {}
        first_moved: CustodyEvent | None = None
        for event in live:
            kind = event.type
            if kind is EventType.ADMITTED and first_moved is None and event.facility_id != origin:
                first_moved = event
            elif kind is EventType.ASSESSED:
                outcomes[event.required("kind")] = event.required("outcome")
            elif kind is EventType.REPATRIATED:
                repatriated[event.authority_id or "", estate.value] += 1
            elif kind in INCIDENTS:
                incidents[kind.value] += 1
        if first_moved is not None:
            moved += 1
            by_week[iso_week(first_moved.occurred_at), first_moved.facility_id or ""] += 1
            if attributes is not None:
                record = attributes.get(person_id)
                nationality = (record.nationality if record else "") or UNKNOWN_NATIONALITY
                group = group_of(record, estate, first_moved.occurred_at.date())
                by_nationality[nationality, group] += 1
        if state.status is Status.HELD:
            held[state.facility_id or "", state.estate.value] += 1
            passing = all(outcomes.get(kind) in passes for kind, passes in PASSING.items())
            if state.facility_id == origin and not passing:
                awaiting[origin, state.estate.value] += 1

    tables = [
        _table(MOVED_BY_WEEK, "week", "destination", by_week, cumulative=True),
        _table(HELD, "facility", "estate", held, columns=ESTATES, cumulative=False),
        _table(REPATRIATED, "authority", "estate", repatriated, columns=ESTATES, cumulative=True),
        _table(AWAITING, "facility", "estate", awaiting, columns=ESTATES, cumulative=False),
    ]
    if attributes is not None:
        nationalities = _table(
            MOVED_BY_NATIONALITY,
            "nationality",
            "group",
            by_nationality,
            columns=GROUPS,
            cumulative=True,
            identities=True,
        )
        tables.insert(1, nationalities)
    counts = {
        "registered": len(people),
        "moved": moved,
        "held": statuses[Status.HELD],
        "in_transit": statuses[Status.IN_TRANSIT] + statuses[Status.ARRIVED],
        "repatriated": statuses[Status.REPATRIATED],
        "released": statuses[Status.RELEASED],
        **{kind.value: incidents[kind.value] for kind in INCIDENTS},
        "awaiting_safeguards": sum(awaiting.values()),
    }
    return Figures(counts, tuple(tables), as_of)


def _table(
    name: str,
    rows_are: str,
    columns_are: str,
    counts: Mapping[tuple[str, str], int],
    *,
    cumulative: bool,
    columns: Iterable[str] | None = None,
    identities: bool = False,
) -> RawTable:
    # Week keys sort in time order as text ("2026-W05" < "2026-W10"), so one sort serves every table.
    rows = tuple(sorted({row for row, _ in counts}))
    fixed = tuple(columns) if columns is not None else ()
    extra = sorted({column for _, column in counts} - set(fixed))
    return RawTable(name, rows_are, columns_are, rows, (*fixed, *extra), dict(counts), cumulative, identities)
