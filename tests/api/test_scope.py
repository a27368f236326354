"""Need to know through the API, with real accounts' tokens on both backends (DESIGN.md, rule 8): by id, something out
of the account's scope answers the same 404 as something that does not exist; lists keep what is in scope; every
read of a person's record is recorded, with its purpose, in the access log and the transparency log.

The operations team (tests/support/team.py) sets the scene; the accounts under test act only through their tokens.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from handover.app import create_app
from handover.core.access import leaf as access_leaf
from handover.core.policy.access import Role
from handover.services import access_log, log
from handover.services.runtime import Runtime, SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.api.support import (
    assert_problem,
    at,
    board,
    clear,
    hand_over,
    log_size,
    man,
    manifest,
    men,
    movement,
    ok,
    register,
    travel,
)
from tests.factories import T0
from tests.support.accounts import bearer, cheap_hashing, make_user, token_for
from tests.support.team import as_team


@dataclass
class Site:
    db: Database
    rt: Runtime
    team: TestClient  # the operations team, to set the scene
    public: TestClient  # no token: each request names its account's token

    def token(self, name: str, role: Role, **scope: str) -> dict[str, str]:
        with cheap_hashing():
            user = make_user(self.db, self.rt, name, role, **scope)
        return bearer(token_for(self.db, self.rt, user))


@pytest.fixture
def site(world: Database) -> Iterator[Site]:
    rt = seeded_runtime(61, SimulatedClock(T0))
    with TestClient(as_team(create_app(world, runtime=rt))) as team, TestClient(create_app(world, runtime=rt)) as c:
        yield Site(world, rt, team, c)


def same_404(missing: Any, hidden: Any, missing_id: str, hidden_id: str) -> None:
    """Two 404 answers that differ only by the id asked for: nothing tells the hidden one from the missing one."""
    first, second = assert_problem(missing, 404), assert_problem(hidden, 404)
    assert first["id"] == missing_id and second["id"] == hidden_id

    def without(body: dict[str, Any], identifier: str) -> dict[str, Any]:
        return {k: str(v).replace(identifier, "ID") for k, v in body.items()}

    assert without(first, missing_id) == without(second, hidden_id)
    assert missing.headers.keys() - {"content-length"} == hidden.headers.keys() - {"content-length"}


def legs(escorts: list[str]) -> dict[str, Any]:
    stops = [("ghweran", "kharab-al-jir"), ("kharab-al-jir", "karkh")]
    return {
        "legs": [
            {
                "from_id": start,
                "to_id": end,
                "mode": "helicopter",
                "escort_id": escort,
                "vehicles": [{"call_sign": f"H-{n}", "seats": 20}],
                "scheduled_departure": at(60 + 120 * n),
                "scheduled_arrival": at(120 + 120 * n),
            }
            for n, ((start, end), escort) in enumerate(zip(stops, escorts, strict=True))
        ]
    }


def test_a_field_officer_runs_only_the_movements_their_authority_escorts(site: Site) -> None:
    people = men(site.team, 4)
    clear(site.team, people)
    movement(site.team, "M-1")  # the route's escort, us-centcom, on every leg
    movement(site.team, "M-2")
    ok(site.team.put("/api/v1/movements/M-2/legs", json=legs(["sy-moi", "us-centcom"])), 200)
    manifest(site.team, "M-1", people[:2])
    manifest(site.team, "M-2", people[2:])
    officer = site.token("escort-sy", Role.FIELD_OFFICER, authority_id="sy-moi")

    assert [m["code"] for m in ok(site.public.get("/api/v1/movements", headers=officer), 200)] == ["M-2"]
    boarding = {"person_ids": people[:2], "occurred_at": at(30)}
    before = log_size(site.team)
    for path, payload in [
        ("/api/v1/movements/{}/board", boarding),
        ("/api/v1/movements/{}/depart", {"occurred_at": at(30)}),
    ]:
        same_404(
            site.public.post(path.format("M-404"), json=payload, headers=officer),
            site.public.post(path.format("M-1"), json=payload, headers=officer),
            "M-404",
            "M-1",
        )
    same_404(
        site.public.get("/api/v1/movements/M-404", headers=officer),
        site.public.get("/api/v1/movements/M-1", headers=officer),
        "M-404",
        "M-1",
    )
    # Planning is not theirs at all: a 403 (the permission), whichever movement.
    body = assert_problem(site.public.post("/api/v1/movements/M-2/approve", headers=officer), 403)
    assert body["rule"] == "permission-required"
    assert log_size(site.team) == before

    boarded = ok(
        site.public.post(
            "/api/v1/movements/M-2/board", json={"person_ids": people[2:], "occurred_at": at(30)}, headers=officer
        )
    )
    assert (boarded["leg"]["number"], boarded["leg"]["boarded"]) == (1, 2)
    departed = ok(site.public.post("/api/v1/movements/M-2/depart", json={"occurred_at": at(40)}, headers=officer))
    assert sorted(e["person_id"] for e in departed["events"]) == sorted(people[2:])
    # The people on it are theirs to read while they escort them; those of M-1 are not.
    ok(site.public.get(f"/api/v1/persons/{people[2]}", headers=officer), 200)
    same_404(
        site.public.get("/api/v1/persons/nobody", headers=officer),
        site.public.get(f"/api/v1/persons/{people[0]}", headers=officer),
        "nobody",
        people[0],
    )


def test_an_intake_officer_admits_only_at_their_facility(site: Site) -> None:
    (person,) = men(site.team, 1)
    clear(site.team, [person])
    movement(site.team, "M-1")  # ghweran -> karkh
    manifest(site.team, "M-1", [person])
    board(site.team, "M-1")
    ok(site.team.post("/api/v1/movements/M-1/depart", json={"occurred_at": at(30)}))
    hand_over(site.team, "M-1", "sy-moi", "iq-moj", "ghweran")
    travel(site.team, "M-1")
    (mother,) = register(site.team, "al-hol", [man(5) | {"sex": "female", "birth_date": "1990-02-02"}])
    clear(site.team, [mother])
    movement(site.team, "F-1", route="al-hol-jeddah")
    manifest(site.team, "F-1", [mother])
    karkh = site.token("intake-karkh", Role.INTAKE_OFFICER, facility_id="karkh")

    admission = {"occurred_at": at(100)}
    before = log_size(site.team)
    same_404(
        site.public.post("/api/v1/movements/M-404/admit", json=admission, headers=karkh),
        site.public.post("/api/v1/movements/F-1/admit", json=admission, headers=karkh),
        "M-404",
        "F-1",
    )
    # Nor one person at another facility, nor registering people there.
    event = {"type": "admitted", "facility_id": "jeddah-1", "occurred_at": at(100)}
    body = assert_problem(site.public.post(f"/api/v1/persons/{mother}/events", json=event, headers=karkh), 404)
    assert (body["kind"], body["id"]) == ("facility", "jeddah-1")
    registration = {"facility_id": "al-hol", "occurred_at": at(), "people": [man(9)]}
    body = assert_problem(site.public.post("/api/v1/persons", json=registration, headers=karkh), 404)
    assert (body["kind"], body["id"]) == ("facility", "al-hol")
    assert [m["code"] for m in ok(site.public.get("/api/v1/movements", headers=karkh), 200)] == ["M-1"]
    assert log_size(site.team) == before

    admitted = ok(site.public.post("/api/v1/movements/M-1/admit", json=admission, headers=karkh))
    assert [(e["person_id"], e["type"], e["facility_id"]) for e in admitted["events"]] == [
        (person, "admitted", "karkh")
    ]
    (task,) = ok(site.public.get("/api/v1/notifications", headers=karkh), 200)
    assert task["person_id"] == person
    jeddah = site.token("intake-jeddah", Role.INTAKE_OFFICER, facility_id="jeddah-1")
    assert ok(site.public.get("/api/v1/notifications", headers=jeddah), 200) == []


def test_a_diplomat_reads_only_their_nationals_and_each_read_is_recorded(site: Site) -> None:
    iraqi, french = register(site.team, "ghweran", [man(0), man(1, nationalities=["FR", "DZ"])])
    diplomat = site.token("consul-fr", Role.DIPLOMAT, country="FR")
    before = log_size(site.team)

    same_404(
        site.public.get("/api/v1/persons/nobody", headers=diplomat),
        site.public.get(f"/api/v1/persons/{iraqi}", headers=diplomat),
        "nobody",
        iraqi,
    )
    assert log_size(site.team) == before  # a refused read is not a read

    answer = site.public.get(f"/api/v1/persons/{french}", headers=diplomat, params={"note": "family asked"})
    assert ok(answer, 200)["person_id"] == french
    with site.db.unit_of_work(read_only=True) as uow:
        (read,) = access_log.reads_of(uow, french)
        assert access_log.reads_of(uow, iraqi) == []
        reader = uow.accounts.by_name("consul-fr")
        (entry,) = log.entries(uow, read.seq, read.seq + 1)
    assert (read.reader_id, read.purpose, read.note) == (reader.id, "consular", "family asked")
    # The read is the log's next entry: ids and the purpose code, never the note.
    assert read.seq == before and log_size(site.team) == before + 1
    decoded = access_leaf.decode(entry)
    assert (decoded.reader_id, decoded.person_id, decoded.purpose.value) == (reader.id, french, "consular")
    assert b"family" not in entry


def test_roles_that_must_say_why_are_refused_without_a_purpose(site: Site) -> None:
    (person,) = men(site.team, 1)
    monitor = site.token("monitor", Role.MONITOR)
    before = log_size(site.team)
    for person_id in (person, "nobody"):  # the same answer whether the person exists or not
        body = assert_problem(site.public.get(f"/api/v1/persons/{person_id}", headers=monitor), 400)
        assert (body["rule"], body["type"]) == (
            "purpose-required",
            "https://handover.example/problems/purpose-required",
        )
    assert_problem(site.public.get(f"/api/v1/persons/{person}", headers=monitor, params={"purpose": "curious"}), 422)
    assert log_size(site.team) == before

    params = {"purpose": "complaint", "note": "letter 12"}
    ok(site.public.get(f"/api/v1/persons/{person}", headers=monitor, params=params), 200)
    with site.db.unit_of_work(read_only=True) as uow:
        (read,) = access_log.reads_of(uow, person)
    assert (read.purpose, read.note) == ("complaint", "letter 12")
    assert log_size(site.team) == before + 1


def test_the_public_reads_counts_and_nobodys_record(site: Site) -> None:
    (person,) = men(site.team, 1)
    assert ok(site.public.get("/api/v1/status"), 200)["registered"] == 1
    assert ok(site.public.get("/api/v1/roll"), 200)["facilities"]
    body = assert_problem(site.public.get(f"/api/v1/persons/{person}"), 401)
    assert body["rule"] == "sign-in-required"
    assert_problem(site.public.get("/api/v1/events"), 401)
