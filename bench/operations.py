"""A 250-person group boarded, handed over and admitted end to end through the HTTP API, against the bare custody
writes those steps cause.

The API side is what the field and intake officers' devices send: board and depart each leg, a handover document
signed by both officers at the origin and at the destination, arrive each leg, admit everyone. Officers sign on
their own devices, so signing is done between requests and not counted; the server's verification of both
signatures is. Requests go through FastAPI's TestClient in-process (no network), so the time is the server's plus
a thin client. The baseline records the same custody events (departures, handovers, arrivals, admissions) through
`services.custody.record` in one transaction per step: no HTTP, no legs, boardings, documents or signatures.
"""

from __future__ import annotations

import base64
import hashlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from tests.factories import man

from handover.app import create_app
from handover.core.custody import Authority, Capacity, Facility
from handover.core.custody import commands as c
from handover.core.custody.handover import public_key_of, sign
from handover.core.custody.model import AuthorityKind, FacilityKind, TransportMode
from handover.core.custody.movements import Route
from handover.core.policy.access import Role
from handover.core.policy.safeguards import FIT_TO_TRAVEL, LEGAL_REVIEW
from handover.services import accounts, assessments, custody, transfers
from handover.services.reference import add_reference_data
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import system_runtime
from handover.store.uow import Database

GROUP = 250
T0 = datetime(2026, 1, 22, 5, 0, tzinfo=UTC)
AUTHORITIES = [
    Authority("sy-moi", "Syrian Ministry of Interior", AuthorityKind.MINISTRY, "SY"),
    Authority("us-centcom", "US Central Command", AuthorityKind.COALITION, "US"),
    Authority("iq-moj", "Iraqi Ministry of Justice", AuthorityKind.MINISTRY, "IQ"),
]
ORIGIN = Facility("ghweran", "Ghweran", "SY", FacilityKind.PRISON, 36.5, 40.7, "sy-moi", 3, Capacity(adult_men=1000))
STAGING = Facility("kharab", "Kharab al-Jir", "SY", FacilityKind.STAGING_BASE, 37.0, 41.6, "us-centcom", 3, Capacity())
KARKH = Facility("karkh", "Karkh", "IQ", FacilityKind.PRISON, 33.2, 44.2, "iq-moj", 4, Capacity(adult_men=1000))
ROUTE = Route("ghweran-karkh", "ghweran", "karkh", ("kharab",), TransportMode.HELICOPTER, "us-centcom", 480, GROUP)


@dataclass(frozen=True)
class GroupTime:
    backend: str
    people: int
    api_seconds: float
    requests: int
    baseline_seconds: float

    @property
    def ratio(self) -> float:
        return self.api_seconds / self.baseline_seconds


def _seed(authority: str) -> bytes:
    return hashlib.sha256(f"bench-officer-{authority}".encode()).digest()


def _prepare(db: Database) -> tuple[str, list[str]]:
    """Untimed: the world, 250 registered and cleared men, an approved movement with all of them on its manifest."""
    rt = system_runtime()
    with db.unit_of_work() as uow:
        add_reference_data(uow, AUTHORITIES, [ORIGIN, STAGING, KARKH], [ROUTE])
        stored = register_people(uow, rt, [NewPerson(man(n), ORIGIN.id) for n in range(GROUP)], T0)
        people = [s.event.person_id for s in stored]
        assessments.assess(uow, rt, people, FIT_TO_TRAVEL, "fit", T0)
        assessments.assess(uow, rt, people, LEGAL_REVIEW, "cleared", T0)
        movement = transfers.create_movement(uow, rt, "BENCH-1", ROUTE.id, T0)
        transfers.approve(uow, movement.id)
        transfers.manifest(uow, rt, movement.id, people, T0)
        uow.commit()
    return movement.id, people


# Whose device posts each officer's signature: the facility's own intake officers sign for the facility's side.
DEVICES = {"sy-moi": "intake-origin", "us-centcom": "escort", "iq-moj": "intake-karkh"}


def _devices(db: Database) -> dict[str, dict[str, str]]:
    """API tokens of real accounts, as the officers' devices and the admin's script hold them (made before timing)."""
    rt = system_runtime()
    made = {}
    with db.unit_of_work() as uow:
        for name, role, scope in (
            ("admin", Role.ADMIN, {}),
            ("escort", Role.FIELD_OFFICER, {"authority_id": "us-centcom"}),
            ("intake-origin", Role.INTAKE_OFFICER, {"facility_id": ORIGIN.id}),
            ("intake-karkh", Role.INTAKE_OFFICER, {"facility_id": KARKH.id}),
        ):
            accounts.add_account(uow, rt, name, role, **scope)
            _token, secret = accounts.create_token(uow, rt, name, "bench device")
            made[name] = {"Authorization": f"Bearer {secret}"}
        uow.commit()
    return made


def _api_round(db: Database) -> tuple[float, int]:
    movement, people = _prepare(db)
    client = TestClient(create_app(db, runtime=system_runtime(), checkpoint_interval=0))
    tokens = _devices(db)
    officers: dict[str, str] = {}
    for authority in ("sy-moi", "us-centcom", "iq-moj"):
        body = {
            "name": f"Officer {authority}",
            "authority_id": authority,
            "public_key": public_key_of(_seed(authority)),
        }
        officers[authority] = client.post("/api/v1/officers", json=body, headers=tokens["admin"]).json()["id"]
    spent = 0.0
    requests = 0

    def call(method: str, path: str, body: dict[str, Any] | None = None, device: str = "escort") -> Any:
        nonlocal spent, requests
        start = time.perf_counter()
        response = client.request(method, path, json=body, headers=tokens[device])
        spent += time.perf_counter() - start
        requests += 1
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def when(minutes: int) -> str:
        return (T0 + timedelta(minutes=minutes)).isoformat()

    def hand_over(place: str, giver: str, taker: str, minutes: int) -> None:
        opened = call(
            "POST",
            f"/api/v1/movements/{movement}/handovers",
            {"place_id": place, "from_authority_id": giver, "to_authority_id": taker, "occurred_at": when(minutes)},
        )
        document = opened["document"].encode()
        for side, authority in (("dispatching", giver), ("receiving", taker)):
            signature = base64.b64encode(sign(_seed(authority), document)).decode()  # on the officer's device
            call(
                "POST",
                f"/api/v1/handovers/{opened['id']}/signatures",
                {"officer_id": officers[authority], "side": side, "signature": signature},
                DEVICES[authority],
            )

    base = f"/api/v1/movements/{movement}"
    call("POST", f"{base}/board", {"person_ids": people, "occurred_at": when(0)})
    hand_over(ORIGIN.id, "sy-moi", "us-centcom", 5)
    call("POST", f"{base}/depart", {"occurred_at": when(10)})
    call("POST", f"{base}/arrive", {"occurred_at": when(70)})
    call("POST", f"{base}/board", {"person_ids": people, "occurred_at": when(90)})
    call("POST", f"{base}/depart", {"occurred_at": when(100)})
    call("POST", f"{base}/arrive", {"occurred_at": when(220)})
    hand_over(KARKH.id, "us-centcom", "iq-moj", 230)
    call("POST", f"{base}/admit", {"occurred_at": when(240)}, "intake-karkh")
    return spent, requests


def _baseline_round(db: Database) -> float:
    """The same custody events, straight through the custody service, one transaction per step."""
    movement, people = _prepare(db)
    rt = system_runtime()

    def step(make: Callable[[str], c.Command]) -> float:
        start = time.perf_counter()
        with db.unit_of_work() as uow:
            custody.record(uow, [make(p) for p in people])
            uow.commit()
        return time.perf_counter() - start

    def fields(p: str) -> dict[str, Any]:
        return {"person_id": p, "event_id": rt.new_id(), "occurred_at": T0, "recorded_at": T0}

    return sum(
        (
            step(lambda p: c.HandOver(**fields(p), from_authority_id="sy-moi", to_authority_id="us-centcom")),
            step(lambda p: c.Depart(**fields(p), movement_id=movement)),
            step(lambda p: c.Arrive(**fields(p), facility=KARKH, movement_id=movement)),
            step(lambda p: c.HandOver(**fields(p), from_authority_id="us-centcom", to_authority_id="iq-moj")),
            step(lambda p: c.Admit(**fields(p), facility=KARKH, authority_id="iq-moj")),
        )
    )


def measure(make_db: Callable[[], Database], backend: str, rounds: int = 3) -> GroupTime:
    """Median of `rounds` each way, API and baseline rounds interleaved, each on a fresh database."""
    api: list[tuple[float, int]] = []
    baseline: list[float] = []
    for _ in range(rounds):
        api.append(_api_round(make_db()))
        baseline.append(_baseline_round(make_db()))
    return GroupTime(
        backend,
        GROUP,
        statistics.median(seconds for seconds, _ in api),
        api[0][1],
        statistics.median(baseline),
    )
