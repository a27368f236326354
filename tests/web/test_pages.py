"""The dashboard and its partial, rendered on both backends (no browser), and the language choice."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

import handover.app
from handover.app import available_languages, choose_language, create_app
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0, man
from tests.scenarios import Scenario, transfer_scenario
from tests.support.team import as_team


@pytest.fixture
def scenario(world: Database) -> Scenario:
    return transfer_scenario(world)


@pytest.fixture
def client(world: Database, scenario: Scenario) -> Iterator[TestClient]:
    """The public: no account."""
    with TestClient(create_app(world)) as test_client:
        yield test_client


@pytest.fixture
def team(world: Database, scenario: Scenario) -> Iterator[TestClient]:
    """The operations team, who may read every person's record."""
    with TestClient(as_team(create_app(world))) as test_client:
        yield test_client


def text_of(html: str, name: str) -> str:
    """The text of the first element with data-testid=name (no nested markup expected)."""
    match = re.search(rf'data-testid="{re.escape(name)}"[^>]*>([^<]*)<', html)
    assert match, f"no element with data-testid={name}"
    return match.group(1).strip()


def tbody(html: str, name: str) -> str:
    match = re.search(rf'<tbody data-testid="{re.escape(name)}">(.*?)</tbody>', html, re.S)
    assert match, f"no tbody {name}"
    return match.group(1)


def test_dashboard_headline_and_counts(client: TestClient, scenario: Scenario) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert text_of(html, "headline") == "12 moved of 7,000 planned"
    assert 'aria-valuenow="12"' in html and 'aria-valuemax="7000"' in html
    assert text_of(html, "in-transit") == "5"
    assert text_of(html, "held-at-origin") == "26"
    assert text_of(html, "registered") == "43"
    assert text_of(html, "log-size") == str(scenario.log_size)
    assert '<html lang="en" dir="ltr">' in html


def test_dashboard_occupancy(client: TestClient) -> None:
    html = client.get("/").text
    karkh = tbody(html, "occupancy-karkh")
    assert text_of(karkh, "facility-name") == "Karkh Central Prison"
    assert text_of(karkh, "held") == "12"
    assert text_of(karkh, "capacity") == "60"
    assert text_of(karkh, "free") == "48"
    al_hol = tbody(html, "occupancy-al-hol")
    assert 'data-testid="occupancy-al-hol-adult_women"' in al_hol
    assert 'data-testid="occupancy-al-hol-minors"' in al_hol
    assert 'data-testid="occupancy-al-hol-adult_men"' not in al_hol  # no places, nobody held
    assert "data-over" not in html


def test_dashboard_latest_events_and_partial(team: TestClient, scenario: Scenario) -> None:
    client = team
    html = client.get("/").text
    seqs = [int(s) for s in re.findall(r'data-testid="event-row" data-seq="(\d+)"', html)]
    assert seqs == list(range(scenario.log_size - 1, scenario.log_size - 21, -1))
    assert 'hx-get="/partials/latest-events"' in html
    assert '<script src="/static/htmx.min.js" defer>' in html

    partial = client.get("/partials/latest-events")
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert [int(s) for s in re.findall(r'data-seq="(\d+)"', partial.text)] == seqs
    newest = partial.text.split('data-testid="event-row"')[1]
    assert text_of(newest, "event-type") == "handed over"
    assert text_of(newest, "event-time") == "2026-01-21 08:30"  # T0 06:00 plus five steps of 30 minutes


def test_over_capacity_is_highlighted(world: Database, client: TestClient) -> None:
    clock = SimulatedClock(T0)
    rt = seeded_runtime(2, clock)
    with world.unit_of_work() as uow:  # kharab-al-jir has 50 places for men
        register_people(uow, rt, [NewPerson(man(n), "kharab-al-jir") for n in range(51)], clock())
        uow.commit()
    html = client.get("/").text
    row = re.search(r'<tr[^>]*data-testid="occupancy-kharab-al-jir-adult_men"[^>]*>(.*?)</tr>', html, re.S)
    assert row is not None
    assert 'data-over="true"' in row.group(0)
    assert text_of(row.group(1), "free") == "-1"
    assert 'data-testid="over-capacity"' in row.group(1)


def test_the_public_dashboard_names_nobody(client: TestClient) -> None:
    """Aggregates and the checkpoint only: no person ids, no alerts, and the latest events' partial is not public."""
    html = client.get("/").text
    assert 'data-testid="progress-section"' in html and 'data-testid="occupancy"' in html
    assert 'data-testid="log-panel"' in html
    assert 'data-testid="latest-events"' not in html and 'data-testid="event-row"' not in html
    assert 'data-testid="alerts"' not in html and "/persons/" not in html
    partial = client.get("/partials/latest-events", follow_redirects=False)
    assert partial.status_code == 303 and partial.headers["location"] == "/signin?next=/partials/latest-events"
    htmx = client.get("/partials/latest-events", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/signin?next=")


def test_static_files(client: TestClient) -> None:
    css = client.get("/static/handover.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = client.get("/static/htmx.min.js")
    assert js.status_code == 200 and "htmx" in js.text


def test_empty_database_renders(db: Database) -> None:
    with TestClient(as_team(create_app(db))) as client:
        html = client.get("/").text
    assert text_of(html, "headline") == "0 moved; no total is planned yet"
    assert 'data-testid="no-events"' in html


def test_right_to_left_language(world: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handover.app, "available_languages", lambda: frozenset({"en", "ar"}))
    with TestClient(create_app(world)) as client:
        arabic = client.get("/", headers={"Accept-Language": "ar-IQ, en;q=0.5"})
        english = client.get("/", headers={"Accept-Language": "fr, en;q=0.5"})
    assert '<html lang="ar" dir="rtl">' in arabic.text
    assert arabic.headers["content-language"] == "ar"
    assert "accept-language" in arabic.headers["vary"].lower()
    assert '<html lang="en" dir="ltr">' in english.text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", "en"),
        ("ar", "ar"),
        ("ar-IQ", "ar"),
        ("fr, ar;q=0.8", "ar"),
        ("en;q=0.4, ar;q=0.9", "ar"),
        ("ar;q=0, en", "en"),
        ("pt-BR, ar;q=0.1", "pt_BR"),
        ("pt-PT", "en"),
        ("*", "en"),
        ("ar;q=bogus", "en"),
    ],
)
def test_choose_language(header: str, expected: str) -> None:
    assert choose_language(header, frozenset({"en", "ar", "pt_BR"})) == expected


def test_available_languages_are_compiled_catalogues(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "ar" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "ar" / "LC_MESSAGES" / "messages.mo").write_bytes(b"")
    (tmp_path / "fr" / "LC_MESSAGES").mkdir(parents=True)  # no catalogue compiled
    assert available_languages(tmp_path) == frozenset({"en", "ar"})
