"""Repatriation cases through the services, on both databases: scope, requests, every step to a signed handover
to the country's authority and the `repatriated` event; refusals; documents; country summaries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from handover.core.custody import Authority, Capacity, EventType, Facility, Status
from handover.core.custody.model import AuthorityKind, FacilityKind, TransportMode
from handover.core.custody.movements import Route
from handover.core.policy.access import Principal, Role
from handover.core.repatriation.cases import CaseAction, CaseState
from handover.services import accounts, reference, repatriation, scope, transfers
from handover.services.access import ForbiddenError
from handover.services.errors import ConflictError, NotFoundError
from handover.services.registry import NewPerson, register_people
from handover.services.repatriation import CaseRefusedError
from handover.services.runtime import Runtime, SimulatedClock, seeded_runtime
from handover.store.documents import FileBlobs
from handover.store.uow import Database
from tests.factories import T0, man
from tests.journeys import board_and_depart, clear, hand_over

KZ_GOV = Authority("kz-gov", "Kazakhstan, Ministry of Foreign Affairs", AuthorityKind.COUNTRY_OF_ORIGIN, "KZ")
FR_GOV = Authority("fr-gov", "France, Ministry for Europe and Foreign Affairs", AuthorityKind.COUNTRY_OF_ORIGIN, "FR")
AIRPORT = Facility(
    "qamishli-airport", "Qamishli airport", "SY", FacilityKind.AIRFIELD, 37.02, 41.19, "sy-moi", 2, Capacity(20, 0, 0)
)
ROAD = Route("ghweran-airport", "ghweran", "qamishli-airport", (), TransportMode.ROAD_CONVOY, "us-centcom", 90, 45)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def cheap_hashing() -> Iterator[None]:
    previous = accounts.use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    accounts.use_hasher(previous)


@dataclass
class Setting:
    db: Database
    rt: Runtime
    clock: SimulatedClock
    kazakhs: list[str]
    french: str
    planner: Principal
    diplomat_kz: Principal
    diplomat_fr: Principal
    escort: Principal
    monitor: Principal


@pytest.fixture
def setting(world: Database) -> Setting:
    clock = SimulatedClock(T0)
    rt = seeded_runtime(21, clock)
    with world.unit_of_work() as uow:
        reference.add_reference_data(uow, [KZ_GOV, FR_GOV], [AIRPORT], [ROAD])
        stored = register_people(
            uow, rt, [NewPerson(man(i, "KZ"), "ghweran") for i in range(3)] + [NewPerson(man(9, "FR"), "ghweran")], T0
        )
        made = {}
        for name, role, scope in (
            ("planner", Role.PLANNER, {}),
            ("diplomat-kz", Role.DIPLOMAT, {"country": "KZ"}),
            ("diplomat-fr", Role.DIPLOMAT, {"country": "FR"}),
            ("escort", Role.FIELD_OFFICER, {"authority_id": "us-centcom"}),
            ("monitor", Role.MONITOR, {}),
        ):
            account, _ = accounts.add_account(uow, rt, name, role, **scope)  # type: ignore[arg-type]
            made[name] = accounts.principal_of(account)
        uow.commit()
    people = [s.event.person_id for s in stored]
    return Setting(
        world,
        rt,
        clock,
        people[:3],
        people[3],
        made["planner"],
        made["diplomat-kz"],
        made["diplomat-fr"],
        made["escort"],
        made["monitor"],
    )


def _accepted(s: Setting) -> list[str]:
    """Cases for the three Kazakhs, requested, talked about and accepted; their ids."""
    with s.db.unit_of_work() as uow:
        cases = [repatriation.open_case(uow, s.rt, s.planner, p, "kz") for p in s.kazakhs]
        assert all(c.state == "identified" and c.authority_id == "kz-gov" for c in cases)
        s.clock.advance(timedelta(days=1))
        request = repatriation.send_request(
            uow, s.rt, s.planner, "KZ", [c.id for c in cases], (T0 + timedelta(days=1)).date(), "NV-2026-14"
        )
        assert sorted(request.case_ids) == sorted(c.id for c in cases)
        s.clock.advance(timedelta(days=2))
        for found in cases:
            repatriation.act(uow, s.rt, s.diplomat_kz, found.id, CaseAction.OPEN_TALKS)
            repatriation.act(uow, s.rt, s.diplomat_kz, found.id, CaseAction.ACCEPT)
        uow.commit()
    return [c.id for c in cases]


def test_a_case_to_repatriation_through_a_signed_handover(setting: Setting) -> None:
    s = setting
    case_ids = _accepted(s)
    with s.db.unit_of_work() as uow:
        assert repatriation.accepted_person_ids(uow) == set(s.kazakhs)
        s.clock.advance(timedelta(days=1))
        departs = s.clock() + timedelta(days=1)
        movement = transfers.create_movement(uow, s.rt, "REPAT-KZ-1", ROAD.id, departs)
        for case_id in case_ids:
            scheduled = repatriation.schedule(uow, s.rt, s.diplomat_kz, case_id, movement.code, departs)
            assert scheduled.state == "scheduled" and scheduled.movement_id == movement.id
        assert repatriation.accepted_person_ids(uow) == set(s.kazakhs)  # scheduled people are still leaving
        uow.commit()

    with s.db.unit_of_work() as uow:
        clear(uow, s.rt, s.kazakhs, s.clock())
        transfers.approve(uow, movement.id)
        transfers.manifest(uow, s.rt, movement.id, s.kazakhs, s.clock())
        hand_over(uow, s.rt, movement.id, "sy-moi", "us-centcom", "ghweran", departs - timedelta(minutes=30))
        board_and_depart(uow, s.rt, movement.id, departs)
        uow.commit()

    # In transit with the escort: not yet handed over to Kazakhstan.
    with s.db.unit_of_work() as uow:
        with pytest.raises(ConflictError) as early:
            repatriation.complete(uow, s.rt, s.escort, case_ids[0], departs)
        assert early.value.rule == "not-handed-over" and early.value.subject == case_ids[0]
        assert "in transit" in early.value.message
        transfers.arrive(uow, s.rt, movement.id, departs + timedelta(hours=2))
        hand_over(uow, s.rt, movement.id, "us-centcom", "kz-gov", AIRPORT.id, departs + timedelta(hours=3))
        uow.commit()

    flown = departs + timedelta(hours=4)
    with s.db.unit_of_work() as uow:
        with pytest.raises(ForbiddenError):  # a diplomat follows cases; the escort records custody
            repatriation.complete(uow, s.rt, s.diplomat_kz, case_ids[0], flown)
        closed, events = repatriation.complete(uow, s.rt, s.escort, case_ids[0], flown)
        uow.commit()
    assert closed.state == "repatriated"
    assert [e.event.type for e in events] == [EventType.ADMITTED, EventType.REPATRIATED]
    assert events[0].event.authority_id == "kz-gov" and events[0].event.facility_id == AIRPORT.id
    assert events[1].event.authority_id == "kz-gov" and events[1].event.detail("country") == "KZ"
    with s.db.unit_of_work() as uow:
        state = uow.custody.states([s.kazakhs[0]])[s.kazakhs[0]]
        assert state.status is Status.REPATRIATED and state.custodian_id == "kz-gov"
        assert repatriation.accepted_person_ids(uow) == set(s.kazakhs[1:])
        steps = [(e.action, e.from_state, e.to_state) for e in repatriation.history(uow, s.monitor, case_ids[0])]
        assert steps == [
            ("open", None, "identified"),
            ("request", "identified", "requested"),
            ("open-talks", "requested", "in_talks"),
            ("accept", "in_talks", "accepted"),
            ("schedule", "accepted", "scheduled"),
            ("complete", "scheduled", "repatriated"),
        ]
        actors = [e.actor_id for e in repatriation.history(uow, s.monitor, case_ids[0])]
        assert actors == [s.planner.account_id] * 2 + [s.diplomat_kz.account_id] * 3 + [s.escort.account_id]
        # Nothing more can happen to the case.
        with pytest.raises(CaseRefusedError) as again:
            repatriation.complete(uow, s.rt, s.escort, case_ids[0], flown)
        assert again.value.rule == "case-closed"
        with pytest.raises(CaseRefusedError) as closed_refusal:
            repatriation.act(uow, s.rt, s.diplomat_kz, case_ids[0], CaseAction.WITHDRAW, "too late")
        assert closed_refusal.value.rule == "case-closed" and closed_refusal.value.state == "repatriated"
        summary = repatriation.country_summary(uow, s.diplomat_kz, "KZ", s.clock())
        assert summary.counts[CaseState.REPATRIATED] == 1 and summary.counts[CaseState.SCHEDULED] == 2


def test_a_handover_to_someone_else_does_not_complete_a_case(setting: Setting) -> None:
    s = setting
    case_ids = _accepted(s)
    with s.db.unit_of_work() as uow:
        departs = s.clock() + timedelta(days=1)
        movement = transfers.create_movement(uow, s.rt, "REPAT-KZ-2", ROAD.id, departs)
        repatriation.schedule(uow, s.rt, s.planner, case_ids[0], movement.id, departs)
        clear(uow, s.rt, s.kazakhs[:1], s.clock())
        transfers.approve(uow, movement.id)
        transfers.manifest(uow, s.rt, movement.id, s.kazakhs[:1], s.clock())
        hand_over(uow, s.rt, movement.id, "sy-moi", "us-centcom", "ghweran", departs)
        board_and_depart(uow, s.rt, movement.id, departs)
        transfers.arrive(uow, s.rt, movement.id, departs + timedelta(hours=2))
        uow.commit()
    with s.db.unit_of_work() as uow, pytest.raises(ConflictError) as refused:
        repatriation.complete(uow, s.rt, s.escort, case_ids[0], departs + timedelta(hours=3))
    assert refused.value.rule == "not-handed-over" and "us-centcom" in refused.value.message
    with s.db.unit_of_work() as uow:
        # A case on no movement the escort runs is none of the escort's business; a planner records no custody.
        with pytest.raises(NotFoundError):
            repatriation.complete(uow, s.rt, s.escort, case_ids[1], departs)
        with pytest.raises(ForbiddenError):
            repatriation.complete(uow, s.rt, s.planner, case_ids[0], departs)
        # Postponed, the case is on no movement any more: the escort no longer sees it.
        repatriation.act(uow, s.rt, s.planner, case_ids[0], CaseAction.POSTPONE, "the flight was cancelled")
        with pytest.raises(NotFoundError):
            repatriation.complete(uow, s.rt, s.escort, case_ids[0], departs)


def test_diplomats_see_and_move_their_own_country_only(setting: Setting) -> None:
    s = setting
    case_ids = _accepted(s)
    with s.db.unit_of_work() as uow:
        french = repatriation.open_case(uow, s.rt, s.planner, s.french, "FR")
        # The French diplomat: not a trace of the Kazakh cases, as if they did not exist.
        assert [c.id for c in repatriation.cases(uow, s.diplomat_fr)] == [french.id]
        assert repatriation.cases(uow, s.diplomat_fr, country="KZ") == []
        for attempt in (
            lambda: repatriation.case(uow, s.diplomat_fr, case_ids[0]),
            lambda: repatriation.history(uow, s.diplomat_fr, case_ids[0]),
            lambda: repatriation.act(uow, s.rt, s.diplomat_fr, case_ids[0], CaseAction.WITHDRAW, "no"),
            lambda: repatriation.documents(uow, s.diplomat_fr, case_ids[0]),
            lambda: repatriation.country_summary(uow, s.diplomat_fr, "KZ", s.clock()),
        ):
            with pytest.raises(NotFoundError):
                attempt()
        with pytest.raises(ForbiddenError):
            repatriation.open_case(uow, s.rt, s.diplomat_fr, s.kazakhs[0], "KZ")
        with pytest.raises(NotFoundError):  # their own country, someone else's national: not found
            repatriation.open_case(uow, s.rt, s.diplomat_kz, s.french, "KZ")
        # The monitor reads every case and changes none.
        assert len(repatriation.cases(uow, s.monitor)) == 4
        with pytest.raises(ForbiddenError):
            repatriation.act(uow, s.rt, s.monitor, french.id, CaseAction.WITHDRAW, "no")
        # Refusing needs a reason, and names the case, rule and state.
        with pytest.raises(CaseRefusedError) as no_reason:
            repatriation.act(uow, s.rt, s.diplomat_kz, case_ids[0], CaseAction.REFUSE)
        assert (no_reason.value.subject, no_reason.value.rule, no_reason.value.state) == (
            case_ids[0],
            "case-reason-required",
            "accepted",
        )
        refused = repatriation.act(uow, s.rt, s.diplomat_kz, case_ids[0], CaseAction.REFUSE, "Tried in Iraq first")
        assert refused.state == "refused"
        assert repatriation.accepted_person_ids(uow) == set(s.kazakhs[1:])
        summaries = {x.country: x for x in repatriation.summaries(uow, s.planner, s.clock())}
        assert set(summaries) == {"FR", "KZ"}
        assert summaries["KZ"].counts[CaseState.ACCEPTED] == 2 and summaries["KZ"].counts[CaseState.REFUSED] == 1
        assert [x.country for x in repatriation.summaries(uow, s.diplomat_kz, s.clock())] == ["KZ"]


def test_opening_refusals(setting: Setting) -> None:
    s = setting
    with s.db.unit_of_work() as uow:
        with pytest.raises(ConflictError) as not_national:
            repatriation.open_case(uow, s.rt, s.planner, s.french, "KZ")
        assert not_national.value.rule == "not-a-national"
        first = repatriation.open_case(uow, s.rt, s.planner, s.french, "FR")
        with pytest.raises(ConflictError) as twice:
            repatriation.open_case(uow, s.rt, s.planner, s.french, "FR")
        assert twice.value.rule == "case-exists" and twice.value.subject == first.id
        with pytest.raises(NotFoundError):
            repatriation.open_case(uow, s.rt, s.planner, "nobody", "FR")
        with pytest.raises(ValueError, match="at least one case"):
            repatriation.send_request(uow, s.rt, s.planner, "FR", [], T0.date())
        with pytest.raises(ConflictError) as other:
            kazakh = repatriation.open_case(uow, s.rt, s.planner, s.kazakhs[0], "KZ")
            repatriation.send_request(uow, s.rt, s.planner, "FR", [first.id, kazakh.id], T0.date())
        assert other.value.rule == "case-of-another-country"
        with pytest.raises(ValueError, match="own service function"):
            repatriation.act(uow, s.rt, s.planner, first.id, CaseAction.SCHEDULE)


def test_scheduling_refusals(setting: Setting) -> None:
    s = setting
    case_ids = _accepted(s)
    with s.db.unit_of_work() as uow:
        movement = transfers.create_movement(uow, s.rt, "REPAT-KZ-3", ROAD.id, s.clock())
        with pytest.raises(ConflictError) as wrong:
            repatriation.schedule(uow, s.rt, s.planner, case_ids[0], movement.id, s.clock(), authority_id="fr-gov")
        assert wrong.value.rule == "authority-of-another-country"
        with pytest.raises(NotFoundError):
            repatriation.schedule(uow, s.rt, s.planner, case_ids[0], "no-such-movement", s.clock())
        transfers.cancel(uow, s.rt, movement.id, "weather", s.clock())
        with pytest.raises(ConflictError) as cancelled:
            repatriation.schedule(uow, s.rt, s.planner, case_ids[0], movement.id, s.clock())
        assert cancelled.value.rule == "movement-not-schedulable"
        other = transfers.create_movement(uow, s.rt, "REPAT-KZ-4", ROAD.id, s.clock())
        repatriation.schedule(uow, s.rt, s.planner, case_ids[0], other.id, s.clock())
        postponed = repatriation.act(uow, s.rt, s.planner, case_ids[0], CaseAction.POSTPONE, "no aircraft")
        assert postponed.state == "accepted" and postponed.movement_id is None and postponed.scheduled_for is None


def test_documents_are_checked_and_stored_by_content(setting: Setting, tmp_path: Path) -> None:
    s = setting
    blobs = FileBlobs(tmp_path / "documents")
    with s.db.unit_of_work() as uow:
        found = repatriation.open_case(uow, s.rt, s.planner, s.kazakhs[0], "KZ")
        document = repatriation.attach_document(
            uow, s.rt, s.diplomat_kz, blobs, found.id, PDF, "Note verbale 14", "application/pdf"
        )
        uow.commit()
    assert document.media_type == "application/pdf" and document.size == len(PDF)
    stored = tmp_path / "documents" / document.sha256[:2] / document.sha256
    assert stored.read_bytes() == PDF and oct(stored.stat().st_mode & 0o777) == "0o600"
    with s.db.unit_of_work() as uow:
        assert [d.id for d in repatriation.documents(uow, s.monitor, found.id)] == [document.id]
        got, data = repatriation.document_content(uow, s.planner, blobs, document.id)
        assert got == document and data == PDF
        with pytest.raises(NotFoundError):
            repatriation.document_content(uow, s.diplomat_fr, blobs, document.id)
        for data, declared, rule in (
            (b"<script>alert(1)</script>", "application/pdf", "document-type-not-allowed"),
            (PDF, "image/png", "document-type-mismatch"),
            (b"\x89PNG\r\n\x1a\n" + b"0" * (5 * 1024 * 1024), "image/png", "document-too-large"),
            (b"", None, "document-empty"),
        ):
            with pytest.raises(ConflictError) as refused:
                repatriation.attach_document(uow, s.rt, s.planner, blobs, found.id, data, "x", declared)
            assert refused.value.rule == rule and refused.value.subject == found.id
        with pytest.raises(ForbiddenError):
            repatriation.attach_document(uow, s.rt, s.monitor, blobs, found.id, PDF, "x")
    with pytest.raises(ValueError, match="SHA-256"):
        blobs.get("../../etc/passwd")


def test_who_sees_a_person_against_the_store(setting: Setting) -> None:
    """The facts scope depends on come from the registry, the custody projection, the legs and the reviews; a
    person out of scope is not found, exactly like one who does not exist."""
    s = setting
    person = s.kazakhs[0]
    intake_here = Principal.of("i1", "intake", Role.INTAKE_OFFICER, facility_id="ghweran")
    intake_there = Principal.of("i2", "intake", Role.INTAKE_OFFICER, facility_id="karkh")
    reviewer = Principal.of("r1", "reviewer", Role.LEGAL_REVIEWER)
    with s.db.unit_of_work() as uow:
        facts = scope.person_facts(uow, person)
        assert facts is not None and facts.facility_id == "ghweran" and facts.nationalities == ("KZ",)
        assert facts.awaiting_review and facts.escort_ids == frozenset()
        for allowed in (s.planner, s.monitor, s.diplomat_kz, intake_here, reviewer):
            assert scope.visible_person(uow, allowed, person).id == person
        for denied in (s.diplomat_fr, intake_there, s.escort):
            with pytest.raises(NotFoundError) as hidden:
                scope.visible_person(uow, denied, person)
            with pytest.raises(NotFoundError) as absent:
                scope.visible_person(uow, s.planner, "no-such-person")
            assert hidden.value.message.replace(person, "X") == absent.value.message.replace("no-such-person", "X")
        # On a movement the escort's authority runs, the escort sees them; once cleared, the reviewer no longer does.
        movement = transfers.create_movement(uow, s.rt, "M-SCOPE", ROAD.id, s.clock())
        clear(uow, s.rt, [person], s.clock())
        transfers.manifest(uow, s.rt, movement.id, [person], s.clock())
        assert scope.visible_person(uow, s.escort, person).id == person
        with pytest.raises(NotFoundError):
            scope.visible_person(uow, reviewer, person)
        assert scope.visible_movement(uow, s.escort, movement.id).movement_id == movement.id
        with pytest.raises(NotFoundError):
            scope.visible_movement(uow, s.diplomat_kz, movement.id)
