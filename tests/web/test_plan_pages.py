"""The Plan page without a browser, on both backends: the headline, the parameters, why not faster, the drafts per
day, the CSV and JSON exports, the plan kept in memory until the log moves on, and adopting a day into draft
movements through the safeguards (a person not yet cleared is refused by id, and nothing is written)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from handover.app import create_app
from handover.core.policy.access import Role
from handover.services import planning, transfers
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0, child, man, woman
from tests.journeys import clear
from tests.support.team import as_team
from tests.web.accounts import signed_in_as
from tests.web.test_pages import text_of

START = (T0 + timedelta(days=1)).date()  # the day after the latest event: everything below happens at T0


@dataclass
class Population:
    men: list[str]
    camp: list[str]
    mothers: list[str]

    @property
    def pending(self) -> list[str]:
        """The men not yet assessed fit to travel nor legally reviewed."""
        return self.men[20:]


def populate(db: Database, pending_clearance_day: int | None = None) -> Population:
    """30 men at Ghweran (the first 20 cleared), 4 mothers with 6 children and 2 women alone at al-Hol (cleared);
    the planning parameters say when the 10 others are expected to be cleared (None: not planned until they are)."""
    rt = seeded_runtime(71, SimulatedClock(T0))
    with db.unit_of_work() as uow:
        men = [
            s.event.person_id for s in register_people(uow, rt, [NewPerson(man(n), "ghweran") for n in range(30)], T0)
        ]
        mothers = [rt.new_id() for _ in range(6)]
        families = [NewPerson(woman(n), "al-hol", person_id=mothers[n]) for n in range(6)]
        families += [NewPerson(child(mothers[n % 4], n), "al-hol") for n in range(6)]
        camp = [s.event.person_id for s in register_people(uow, rt, families, T0)]
        clear(uow, rt, men[:20] + camp, T0)
        planning.set_parameters(uow, planning.Parameters(horizon_days=10, pending_clearance_day=pending_clearance_day))
        uow.commit()
    return Population(men, camp, mothers)


@dataclass
class Site:
    client: TestClient
    db: Database
    people: Population

    def adopt(self, day: int, html: str | None = None, **fields: str) -> Any:
        page = html if html is not None else self.client.get("/plan").text
        data = {"csrf": form_value(page, "csrf"), "start": START.isoformat(), "day": str(day)}
        data["plan"] = day_token(page, day) or form_value(page, "plan")
        return self.client.post("/plan/adopt", data={**data, **fields}, follow_redirects=False)


def form_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match, f"no {name} field on the page: no right to plan, or no drafts?"
    return match.group(1)


def day_token(html: str, day: int) -> str | None:
    """The plan token of the adopt form for `day` (None when that day has no form)."""
    match = re.search(rf'name="day" value="{day}">\s*<input type="hidden" name="plan" value="([^"]+)"', html)
    return match.group(1) if match else None


def _site(db: Database, people: Population) -> Iterator[Site]:
    """The operations team on the Plan page."""
    app = as_team(create_app(db, runtime=seeded_runtime(7, SimulatedClock(T0 + timedelta(hours=2)))))
    with TestClient(app) as client:
        yield Site(client, db, people)


@pytest.fixture
def site(world: Database) -> Iterator[Site]:
    yield from _site(world, populate(world))


@pytest.fixture
def pending_site(world: Database) -> Iterator[Site]:
    """The same people, with the 10 not yet cleared expected to be cleared on day 0: the plan moves them, and
    adopting their day is refused until they really are."""
    yield from _site(world, populate(world, pending_clearance_day=0))


def draft_rows(html: str) -> list[dict[str, str]]:
    """(date, route, sortie, people) of every draft row on the page, day by day."""
    rows = []
    for day in re.finditer(
        r'<tbody data-testid="draft-day" data-day="(\d+)" data-date="([^"]+)">(.*?)</tbody>', html, re.S
    ):
        for row in re.finditer(
            r'data-testid="draft-row" data-route="([^"]+)" data-sortie="(\d+)" data-people="(\d+)"', day.group(3)
        ):
            rows.append({"date": day.group(2), "route": row.group(1), "sortie": row.group(2), "people": row.group(3)})
    return rows


def log_size(db: Database) -> int:
    with db.unit_of_work(read_only=True) as uow:
        return uow.custody.size()


# --- the page ------------------------------------------------------------------------------------------------------


def test_the_plan_page_shows_the_schedule_and_why_not_faster(site: Site) -> None:
    response = site.client.get("/plan")
    assert response.status_code == 200
    html = response.text
    assert 'data-testid="nav-plan"' in html
    # The default start is the day after the latest event; the parameters are those stored for the operation.
    assert f'name="start" value="{START.isoformat()}"' in html
    assert "10 days, 2026-01-22 to 2026-01-31" in html
    assert "not planned until they are cleared" in html
    # 42 wait; the 10 men not yet cleared are never scheduled, so the plan cannot finish.
    assert text_of(html, "plan-headline") == "Not within the 10-day horizon: 10 of 42 people are still waiting."
    assert text_of(html, "people") == "42" and text_of(html, "moved") == "32" and text_of(html, "remaining") == "10"
    assert "every rule holds" in html
    # Why not faster, in words: those men wait for their safeguard clearance.
    messages = re.findall(r'data-testid="bottleneck-message">([^<]*)<', html)
    assert "10 people at Ghweran prison are not cleared by the safeguard review and have no clearance day." in messages
    # The drafts per day: everyone cleared, on routes of the world, in rows that add up to the people moved.
    rows = draft_rows(html)
    assert rows and sum(int(r["people"]) for r in rows) == 32
    assert {r["route"] for r in rows} == {"ghweran-karkh", "al-hol-jeddah"}
    # Charts are drawn on the server: the bars add up to the people moved too.
    bars = re.findall(r'data-testid="timeline-chart-bar" data-day="\d+" data-series="([^"]+)" data-value="(\d+)"', html)
    assert sum(int(v) for _s, v in bars) == 32 and {s for s, _v in bars} == {"karkh", "jeddah-1"}
    assert html.count('data-testid="utilisation-chart-line"') == 2
    assert html.count('data-testid="forecast-chart-band"') == 5  # as observed, and four what-ifs
    assert 'data-testid="basis"' in html and "Rests on 1 day of history" in html
    # Those who plan may adopt a day.
    assert 'data-testid="adopt-form"' in html and 'data-testid="read-only"' not in html


def test_the_exports_carry_the_same_plan(site: Site) -> None:
    html = site.client.get("/plan").text
    body = site.client.get("/plan.json")
    assert body.status_code == 200 and body.headers["content-type"].startswith("application/json")
    data = body.json()
    assert data["start"] == START.isoformat() and data["checked"] is True and data["violations"] == []
    assert data["plan"]["headline"] == text_of(html, "plan-headline")
    assert data["parameters"]["horizon_days"] == 10
    forecast = data["forecast"]
    assert forecast["remaining"] == 42 and forecast["baseline"]["scenario"] == "As observed"
    assert len(forecast["scenarios"]) == 4 and forecast["basis"].startswith("Rests on")
    drafts = data["drafts"]
    page = draft_rows(html)
    assert [(d["date"], d["route"], str(d["sortie"]), str(len(d["people"]))) for d in drafts] == [
        (r["date"], r["route"], r["sortie"], r["people"]) for r in page
    ]

    exported = site.client.get(f"/plan.csv?start={START.isoformat()}")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    header, tags, *rows = list(csv.reader(io.StringIO(exported.text)))
    assert header[:3] == ["date", "day", "route"] and "people" in header and "cohorts" in header
    assert tags[0] == "#date" and "#loc+name+origin" in tags
    assert len(rows) == len(drafts)
    for row, draft in zip(rows, drafts, strict=True):
        line = dict(zip(header, row, strict=True))
        assert (line["date"], line["route"], int(line["sortie"]), int(line["seats"]), int(line["people"])) == (
            draft["date"],
            draft["route"],
            draft["sortie"],
            draft["seats"],
            len(draft["people"]),
        )
        assert line["cohorts"] == "; ".join(f"{load['cohort']}: {load['people']}" for load in draft["loads"])


def test_a_plan_is_kept_in_memory_until_the_log_moves_on(site: Site) -> None:
    first = site.client.get("/plan").text
    assert 'data-cached="false"' in first
    again = site.client.get("/plan").text
    assert 'data-cached="true"' in again and text_of(again, "plan-headline") == text_of(first, "plan-headline")
    assert site.client.get("/plan.json").json()["computed"]["from_memory"] is True
    # Another start date is another plan.
    other = site.client.get("/plan?start=2026-01-25").text
    assert 'data-cached="false"' in other and "2026-01-25 to 2026-02-03" in other
    # The log grows (the 10 men are cleared): the plan is made again, and now moves them too.
    with site.db.unit_of_work() as uow:
        clear(uow, seeded_runtime(72, SimulatedClock(T0)), site.people.pending, T0)
        uow.commit()
    fresh = site.client.get("/plan").text
    assert 'data-cached="false"' in fresh
    assert text_of(fresh, "remaining") == "0" and sum(int(r["people"]) for r in draft_rows(fresh)) == 42


def test_a_bad_start_date_is_refused_in_words(site: Site) -> None:
    response = site.client.get("/plan?start=tomorrow")
    assert response.status_code == 422
    assert "tomorrow is not a date" in text_of(response.text, "refusal-message")
    assert 'data-testid="parameters"' in response.text  # the page still shows what it can
    assert site.client.get("/plan.json?start=31/01/2026").status_code == 422


# --- adopting a day ------------------------------------------------------------------------------------------------


def test_adopting_a_day_creates_its_draft_movements(site: Site) -> None:
    html = site.client.get("/plan").text
    drafts = site.client.get("/plan.json").json()["drafts"]
    first = min(d["day"] for d in drafts)
    chosen = [d for d in drafts if d["day"] == first]
    response = site.adopt(first, html)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/plan?") and "adopted=" in location
    page = site.client.get(location).text
    codes = re.findall(r'data-testid="adopted-movement" dir="ltr">([^<]+)<', page)
    assert len(codes) == len(chosen)
    assert 'href="/movements"' in page
    with site.db.unit_of_work(read_only=True) as uow:
        for code, draft in zip(codes, chosen, strict=True):
            movement = transfers.movement(uow, code)
            assert movement.state.value == "draft" and movement.route_id == draft["route"]
            assert {s.person_id for s in uow.custody.on_movement(movement.id)} == set(draft["people"])
    board = site.client.get("/movements").text
    assert all(code in board for code in codes)
    # The log moved on, so the plan was made again: the people adopted are no longer in it.
    adopted = {p for d in chosen for p in d["people"]}
    again = site.client.get("/plan.json").json()
    assert not adopted & {p for d in again["drafts"] for p in d["people"]}


def test_people_not_yet_cleared_make_adoption_refuse_by_id(pending_site: Site) -> None:
    site = pending_site
    html = site.client.get("/plan").text
    pending = set(site.people.pending)
    drafts = site.client.get("/plan.json").json()["drafts"]
    day = next(d["day"] for d in drafts if pending & set(d["people"]))
    before = log_size(site.db)
    response = site.adopt(day, html)
    assert response.status_code == 409
    assert re.search(r'data-testid="refusal" data-rule="fit-to-travel"', response.text)
    subject = text_of(response.text, "refusal-subject")
    assert subject in pending
    assert f"Person {subject} cannot be put on movement" in text_of(response.text, "refusal-message")
    assert f'href="/persons/{subject}"' in response.text
    assert "Nothing was recorded." in response.text
    assert log_size(site.db) == before
    with site.db.unit_of_work(read_only=True) as uow:
        assert uow.movements.all() == []


def test_adopting_needs_the_right_to_plan_and_the_plan_on_screen(site: Site) -> None:
    before = log_size(site.db)
    with TestClient(create_app(site.db, runtime=seeded_runtime(9, SimulatedClock(T0)))) as other:
        anonymous = other.get("/plan", follow_redirects=False)
        assert anonymous.status_code == 303 and anonymous.headers["location"] == "/signin?next=/plan"
        refused = other.post("/plan/adopt", data={"start": START.isoformat(), "day": "0"}, follow_redirects=False)
        assert refused.status_code == 401 and 'data-testid="denied"' in refused.text
        monitor = signed_in_as(other, "monitor-a", Role.MONITOR)  # reads the plan, plans nothing
        html = monitor.get("/plan").text
        assert day_token(html, 0) is None and 'data-testid="read-only"' in html
        forbidden = monitor.post("/plan/adopt", data={"start": START.isoformat(), "day": "0"}, follow_redirects=False)
        assert forbidden.status_code == 403 and 'data-testid="denied"' in forbidden.text
    html = site.client.get("/plan").text
    stale = site.adopt(0, html, plan="0" * 20)
    assert stale.status_code == 409 and 'data-rule="plan-changed"' in stale.text
    empty_day = site.adopt(9, html)
    assert empty_day.status_code == 422 and "Day 9 of this plan has no draft movements." in empty_day.text
    assert log_size(site.db) == before


def test_nobody_waiting_is_said_plainly(world: Database) -> None:
    app = as_team(create_app(world, runtime=seeded_runtime(8, SimulatedClock(T0))))
    with TestClient(app) as client:
        response = client.get("/plan")
        assert response.status_code == 200
        assert text_of(response.text, "plan-headline") == "Nobody is waiting to move."
        assert 'data-testid="no-drafts"' in response.text
        # An empty log: the plan starts today.
        assert f'name="start" value="{T0.date().isoformat()}"' in response.text
        assert client.get("/plan.csv").text.count("\n") == 2  # the header and its HXL hashtags


def test_a_day_adopted_again_after_planning_again_gets_new_movements(world: Database) -> None:
    """Adopt day 0, clear more people, plan again: day 0 has new drafts on the same route, and new codes."""
    rt = seeded_runtime(73, SimulatedClock(T0))
    with world.unit_of_work() as uow:
        men = [
            s.event.person_id for s in register_people(uow, rt, [NewPerson(man(n), "ghweran") for n in range(30)], T0)
        ]
        clear(uow, rt, men[:20], T0)
        planning.set_parameters(uow, planning.Parameters(horizon_days=5, pending_clearance_day=None))
        uow.commit()
    for site in _site(world, Population(men, [], [])):
        first = site.adopt(0)
        assert first.status_code == 303, first.text
        with world.unit_of_work() as uow:
            clear(uow, rt, men[20:], T0)
            uow.commit()
        second = site.adopt(0)
        assert second.status_code == 303, second.text
        codes = [re.search(r"adopted=([^&]+)", r.headers["location"]).group(1) for r in (first, second)]  # type: ignore[union-attr]
        assert codes == ["PLAN-20260122-ghweran-karkh-01", "PLAN-20260122-ghweran-karkh-02"]
        with world.unit_of_work(read_only=True) as uow:
            moved = {s.person_id for code in codes for s in uow.custody.on_movement(transfers.movement(uow, code).id)}
        assert moved == set(men)
