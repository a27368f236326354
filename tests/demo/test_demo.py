"""The demo scenario: deterministic, built through the services, and true to the public facts."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from handover.core.access import leaf as access_leaf
from handover.core.custody import EventType, Status, leaf
from handover.core.tlog.tiles import bundles_for_size, decode_bundle
from handover.demo.build import build_demo
from handover.demo.scenario import load
from handover.services import log, queries, rebuild
from handover.store.tables import Base
from handover.store.uow import Database


def _dump(db: Database) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    tables = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns)
            rows = conn.execute(sa.select(table).order_by(*order)).all()
            tables[table.name] = [tuple(r) for r in rows]
    return tables


def _sqlite(tmp_path_factory: pytest.TempPathFactory) -> Database:
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}")
    db.migrate()
    return db


@pytest.fixture(scope="module")
def full_demo(tmp_path_factory: pytest.TempPathFactory) -> Database:
    db = _sqlite(tmp_path_factory)
    build_demo(db.unit_of_work, seed=2026)
    return db


def test_two_builds_with_one_seed_are_identical_and_another_seed_differs(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    first, second, other = (_sqlite(tmp_path_factory) for _ in range(3))
    build_demo(first.unit_of_work, seed=5, people=700)
    build_demo(second.unit_of_work, seed=5, people=700)
    build_demo(other.unit_of_work, seed=6, people=700)
    assert _dump(first) == _dump(second)
    assert _dump(first)["persons"] != _dump(other)["persons"]


@pytest.mark.postgres
def test_the_same_seed_builds_the_same_content_on_postgresql(
    tmp_path_factory: pytest.TempPathFactory,
    pg_server,
    pg_template,  # type: ignore[no-untyped-def]
) -> None:
    from tests.conftest import _postgres_database

    lite = _sqlite(tmp_path_factory)
    pg = Database(_postgres_database(pg_server, pg_template))
    build_demo(lite.unit_of_work, seed=9, people=500)
    build_demo(pg.unit_of_work, seed=9, people=500)
    assert _dump(lite) == _dump(pg)
    pg.dispose()


def test_the_demo_refuses_a_database_that_is_not_empty(full_demo: Database) -> None:
    from handover.services.errors import ConflictError

    with pytest.raises(ConflictError):
        build_demo(full_demo.unit_of_work, seed=1, people=10)


def test_the_first_week_matches_the_reported_figures(full_demo: Database) -> None:
    scenario = load()
    with full_demo.unit_of_work() as uow:
        report = queries.status(uow)
        persons = {p.id: p for p in uow.persons.all()}
        projection = uow.custody.projection()
    assert report.registered == 7000 and report.planned == 7000
    expected_iraqis = sum(g.iraqis for g in scenario.history)
    expected_foreigners = sum(g.foreigners for g in scenario.history)
    assert 120 <= expected_iraqis <= 140 and 380 <= expected_foreigners <= 400
    moved = [r for r in projection if r.state.status is Status.HELD and r.state.facility_id != r.origin_id]
    assert report.moved == len(moved) == expected_iraqis + expected_foreigners
    nationalities = Counter(persons[r.state.person_id].identity.nationality for r in moved)
    assert nationalities["IQ"] == expected_iraqis
    assert {r.state.facility_id for r in moved} <= {"karkh", "al-hout"}
    assert all(persons[r.state.person_id].identity.sex.value == "male" for r in moved)
    assert all(r.state.custodian_id == "iq-moj" for r in moved)
    assert report.in_transit == 0
    assert sum(o.total for o in report.facilities) == 7000


def test_the_people_look_like_the_public_facts(full_demo: Database) -> None:
    with full_demo.unit_of_work() as uow:
        persons = uow.persons.all()
        places = {r.state.person_id: r.origin_id for r in uow.custody.projection()}
    by_id = {p.id: p for p in persons}
    nationality = Counter(p.identity.nationality for p in persons)
    assert 1800 <= nationality["IQ"] <= 2300
    assert len(nationality) > 40
    children = [p for p in persons if p.identity.mother_id]
    assert children and all(by_id[p.identity.mother_id].identity.sex.value == "female" for p in children)
    assert all(places[p.id] == places[p.identity.mother_id] for p in children)
    assert {places[p.id] for p in children} <= {"al-hol", "roj"}
    prisons = {"ghweran", "al-sinaa", "shaddadi"}
    assert all(p.identity.sex.value == "male" and p.estate == "adult_men" for p in persons if places[p.id] in prisons)
    assert all(p.identity.name_ar and p.identity.name_latin for p in persons)
    assert any(any("\u0600" <= ch <= "\u06ff" for ch in p.identity.name_ar) for p in persons)
    # Real lists spell one name several ways.
    assert sum(1 for p in persons if p.identity.aliases) > len(persons) / 3


def test_the_projection_rebuilds_to_the_same_state(full_demo: Database) -> None:
    with full_demo.unit_of_work() as uow:
        report = rebuild.compare(uow)
    assert report.differences == [] and report.broken == [] and report.persons == 7000


def test_no_personal_data_in_any_log_leaf(full_demo: Database) -> None:
    """Every leaf of the demo log, as published in the entry bundles, names people (and readers) by random id only:
    custody events and access entries alike, each decoded by its kind."""
    with full_demo.unit_of_work() as uow:
        persons = uow.persons.all()
        readers = uow.accounts.all()
        size = uow.custody.size()
        bundles = [log.entry_bundle(uow, bundle) for bundle in bundles_for_size(size)]
    leaves = [entry for data in bundles for entry in decode_bundle(data)]
    assert len(leaves) == size
    events = [leaf.decode(entry) for entry in leaves if not access_leaf.is_access(entry)]
    reads = [access_leaf.decode(entry) for entry in leaves if access_leaf.is_access(entry)]
    assert len(events) + len(reads) == size
    kinds = Counter(event.type for event in events)
    assert kinds[EventType.REGISTERED] == 7000
    known = {p.id for p in persons}
    assert all(read.person_id in known for read in reads)
    text = b"\n".join(leaves).decode()
    secrets = {account.display_name for account in readers}  # readers appear by random account id only
    for p in persons:
        secrets |= {p.identity.name_latin, p.identity.name_ar, *p.identity.aliases}
        # Each part of every spelling (given, father's and family names), in both scripts.
        secrets |= {
            part for name in (p.identity.name_latin, *p.identity.aliases) for part in name.split() if len(part) > 3
        }
        secrets |= {part for part in p.identity.name_ar.split() if len(part) > 2}
        if p.identity.birth_date:
            secrets |= {p.identity.birth_date.isoformat(), p.identity.birth_date.strftime("%d/%m/%Y")}
    found = sorted(s for s in secrets if s in text)
    assert found == []


def test_the_first_week_is_real_movements_with_legs_signed_handovers_and_reconciliation(full_demo: Database) -> None:
    import base64

    from handover.core.custody.handover import signature_valid
    from handover.services import reconciliation

    scenario = load()
    facilities = {f.id: f for f in scenario.facilities}
    with full_demo.unit_of_work(read_only=True) as uow:
        movements = uow.movements.all()
        history = [m for m in movements if m.state.value == "reconciled"]
        assert len(history) == len(scenario.history)
        assert {m.mode.value for m in history} >= {"helicopter", "road_convoy"}
        border_handovers = 0
        for m in history:
            report = reconciliation.report(uow, m.id)
            assert report.unaccounted == [] and report.departed == report.accounted == len(report.lines)
            assert [c.boarded for c in report.legs] == [len(report.lines)] * len(report.legs)
            assert all(leg.leg.departed_at and leg.leg.arrived_at for leg in report.legs)
            for handover in report.handovers:
                assert handover.state == "complete"
                for officer_id, signature in (
                    (handover.dispatching_officer_id, handover.dispatching_signature),
                    (handover.receiving_officer_id, handover.receiving_signature),
                ):
                    officer = uow.operations.officer(officer_id or "")
                    assert officer is not None and signature is not None
                    assert signature_valid(
                        base64.b64decode(officer.public_key), base64.b64decode(signature), handover.document.encode()
                    )
                if facilities[handover.place_id].kind.value == "border_crossing":
                    border_handovers += 1
                    assert m.mode.value == "road_convoy"
        assert border_handovers >= 1
        upcoming = [m for m in movements if m.state.value == "approved"]
        assert len(upcoming) == 1 and len(uow.custody.on_movement(upcoming[0].id)) == 60
        # Every admitted family was told, except the last group's, whose tasks are still open.
        tasks = reconciliation.notification_tasks(uow, history[-1].scheduled_at, 24)
        assert len(tasks) == scenario.history[-1].iraqis + scenario.history[-1].foreigners
