"""The transparency log on the pages: the dashboard's checkpoint panel and a person's proofs, on both backends."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import handover.app
from handover.app import create_app
from handover.core.custody import leaf
from handover.core.tlog.checkpoint import Checkpoint
from handover.core.tlog.hashing import leaf_hash
from handover.core.tlog.note import Signer, open_note
from handover.core.tlog.proof import parse_proof, verify_proof
from handover.core.tlog.tree import check_inclusion, stored_hash_index
from handover.services import custody, log
from handover.services.person_events import EventRequest, record_event
from handover.services.ports import StoredCheckpoint
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0, man
from tests.journeys import hand_over, travel_to_destination
from tests.scenarios import IN_TRANSIT_CODE, Scenario, transfer_scenario
from tests.support.team import as_team
from tests.web.test_pages import text_of

SIGNER = Signer.generate("test.example/log")
SIGNED_AT = T0 + timedelta(hours=3)


@pytest.fixture
def scenario(world: Database) -> Scenario:
    return transfer_scenario(world)


@pytest.fixture
def client(world: Database, scenario: Scenario) -> Iterator[TestClient]:
    """The operations team, who may read every person's page."""
    with TestClient(as_team(create_app(world, signer=SIGNER, checkpoint_interval=0))) as test_client:
        yield test_client


def sign(db: Database) -> StoredCheckpoint:
    with db.unit_of_work() as uow:
        signed = log.sign_checkpoint(uow, SIGNER, SIGNED_AT)
        uow.commit()
    return signed


def register_more(db: Database, count: int, seed: int = 7) -> list[str]:
    rt = seeded_runtime(seed, SimulatedClock(SIGNED_AT))
    with db.unit_of_work() as uow:
        stored = register_people(uow, rt, [NewPerson(man(500 + n), "ghweran") for n in range(count)], SIGNED_AT)
        uow.commit()
    return [s.event.person_id for s in stored]


def chain_events(html: str) -> list[dict[str, str]]:
    """Each <li data-testid="chain-event">: its data-* attributes and, under "html", its inner markup."""
    events = []
    for part in html.split('<li class="chain-event')[1:]:
        start, _, rest = part.partition(">")
        attributes = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', start))
        events.append({**attributes, "html": rest[: rest.rindex("</li>")]})
    return events


def seqs_of(db: Database, person_id: str) -> list[int]:
    with db.unit_of_work() as uow:
        return [s.seq for s in uow.custody.chain(person_id)]


def drop_protection(db: Database, table: str) -> None:
    """What an insider with database rights could do: remove a table's append-only trigger."""
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "sqlite":
            conn.exec_driver_sql(f"DROP TRIGGER {table}_no_update")
        else:
            conn.exec_driver_sql(f"DROP TRIGGER {table}_append_only ON {table}")


# --- the dashboard's panel ---------------------------------------------------------------------------------------


def test_panel_before_any_checkpoint(client: TestClient, scenario: Scenario) -> None:
    html = client.get("/").text
    assert 'data-testid="log-panel"' in html
    assert "No checkpoint has been signed yet" in text_of(html, "no-checkpoint")
    assert text_of(html, "checkpoint-after") == f"{scenario.log_size} events are waiting for the first checkpoint."
    assert 'data-testid="checkpoint-size"' not in html


def test_panel_shows_the_latest_checkpoint(world: Database, client: TestClient, scenario: Scenario) -> None:
    signed = sign(world)
    register_more(world, 3)
    html = client.get("/").text
    assert text_of(html, "checkpoint-size") == str(scenario.log_size)
    assert text_of(html, "checkpoint-root") == base64.b64encode(signed.root).decode()
    with world.unit_of_work() as uow:
        assert log.root(uow, scenario.log_size) == signed.root
    assert text_of(html, "checkpoint-signed-at") == "2026-01-21 09:00:00"
    assert 'datetime="2026-01-21T09:00:00+00:00"' in html
    assert text_of(html, "checkpoint-key-name") == "test.example/log"
    assert text_of(html, "checkpoint-key-id") == f"{SIGNER.key_id:08x}"
    assert text_of(html, "checkpoint-vkey") == SIGNER.verifier.vkey
    assert 'data-testid="checkpoint-signature"' in html and "signature verified" in html
    assert text_of(html, "checkpoint-after") == (
        "3 events recorded after this checkpoint; the next checkpoint will include them."
    )
    assert re.search(r'href="/log/checkpoint" data-testid="checkpoint-link"', html)
    assert client.get("/log/checkpoint").text == signed.note
    assert text_of(html, "log-size") == str(scenario.log_size + 3)


def test_panel_reads_the_key_from_the_note_when_the_app_has_no_signer(world: Database, scenario: Scenario) -> None:
    sign(world)
    with TestClient(create_app(world)) as client:  # a read-only server: no key loaded
        html = client.get("/").text
    assert text_of(html, "checkpoint-key-name") == "test.example/log"
    assert text_of(html, "checkpoint-key-id") == f"{SIGNER.key_id:08x}"
    assert 'data-testid="checkpoint-vkey"' not in html
    assert 'data-testid="checkpoint-signature"' not in html
    assert "Every event in the log is in this checkpoint." in html


def test_a_checkpoint_signed_by_another_key_is_not_called_verified(world: Database, scenario: Scenario) -> None:
    sign(world)
    other = Signer.generate("test.example/log")  # same name, another key: a different key ID
    with TestClient(create_app(world, signer=other, checkpoint_interval=0)) as client:
        html = client.get("/").text
    assert text_of(html, "checkpoint-key-id") == f"{SIGNER.key_id:08x}"
    assert "signature verified" not in html and 'data-testid="checkpoint-vkey"' not in html


def test_latest_events_link_to_person_pages(world: Database, client: TestClient, scenario: Scenario) -> None:
    html = client.get("/partials/latest-events").text
    links = re.findall(r'<a href="/persons/([^"]+)" data-testid="event-person-link"', html)
    assert len(links) == 20
    assert set(links) <= {*scenario.men, *scenario.women, *scenario.children}


# --- a person's page ---------------------------------------------------------------------------------------------


def test_person_page_shows_current_custody_and_each_event_verified(
    world: Database, client: TestClient, scenario: Scenario
) -> None:
    signed = sign(world)
    person_id = scenario.moved[0]
    response = client.get(f"/persons/{person_id}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert text_of(html, "person-id") == person_id
    assert text_of(html, "current-status") == "held"
    assert 'data-status="held"' in html
    assert text_of(html, "current-custodian").startswith("Iraq Ministry of Justice")
    assert text_of(html, "current-place").startswith("Karkh Central Prison")

    events = chain_events(html)
    assert [int(e["seq"]) for e in events] == seqs_of(world, person_id)
    assert [e["type"] for e in events] == [
        "registered", "assessed", "assessed", "manifested", "departed", "handed_over", "arrived", "handed_over",
        "admitted",
    ]  # fmt: skip
    assert text_of(events[5]["html"], "chain-custodian") == "US Central Command"
    assert text_of(events[3]["html"], "chain-custodian") == "Syrian Ministry of Interior"  # unchanged by manifesting
    assert text_of(events[3]["html"], "chain-movement") == "M-001"
    with world.unit_of_work() as uow:
        chain = uow.custody.chain(person_id)
        for event, stored in zip(events, chain, strict=True):
            assert event["inclusion"] == "verified"
            assert f"verified in checkpoint of size {scenario.log_size}" in event["html"]
            shown = [base64.b64decode(h) for h in re.findall(r'data-testid="proof-hash">([^<]+)<', event["html"])]
            assert shown == log.inclusion_proof(uow, stored.seq, signed.size)
            hashed = leaf_hash(leaf.encode(stored.event))
            assert check_inclusion(shown, signed.size, signed.root, stored.seq, hashed)
            assert text_of(event["html"], "proof-leaf-hash") == base64.b64encode(hashed).decode()
            assert f'href="/api/v1/log/receipts/{stored.event.event_id}"' in event["html"]
        record = uow.persons.get(person_id)
    assert text_of(html, "summary-verified") == "9 verified"
    assert 'data-testid="summary-pending"' not in html and 'data-testid="summary-failed"' not in html
    # Rule 5 holds on the page too: no identity, only the random id.
    assert record is not None
    identity = record.identity
    assert identity.birth_date is not None
    for value in (identity.name_ar, identity.name_latin, *identity.aliases, identity.birth_date.isoformat()):
        assert value not in html


def test_events_after_the_checkpoint_are_not_yet_in_one(
    world: Database, client: TestClient, scenario: Scenario
) -> None:
    sign(world)
    # M-002 arrives after the checkpoint: the person's first events are proved, the new ones wait.
    clock = SimulatedClock(SIGNED_AT)
    rt = seeded_runtime(8, clock)
    with world.unit_of_work() as uow:
        hand_over(uow, rt, IN_TRANSIT_CODE, "us-centcom", "iq-moj", "karkh", clock())
        travel_to_destination(uow, rt, IN_TRANSIT_CODE, clock())
        uow.commit()
    html = client.get(f"/persons/{scenario.in_transit[0]}").text
    events = chain_events(html)
    assert [(e["type"], e["inclusion"]) for e in events] == [
        ("registered", "verified"),
        ("assessed", "verified"),
        ("assessed", "verified"),
        ("manifested", "verified"),
        ("departed", "verified"),
        ("handed_over", "verified"),
        ("handed_over", "pending"),
        ("arrived", "pending"),
    ]
    for event in events[6:]:
        assert "not yet in a checkpoint" in event["html"]
        assert "receipts/" not in event["html"]  # no receipt before a checkpoint covers the event
        assert 'data-testid="proof-hash"' not in event["html"]
    assert text_of(html, "summary-verified") == "6 verified"
    assert text_of(html, "summary-pending") == "2 not yet in a checkpoint"
    assert text_of(html, "current-status") == "arrived, awaiting admission"


def test_corrections_and_late_reports_are_marked(world: Database, client: TestClient, scenario: Scenario) -> None:
    person_id = scenario.men[-1]  # still at ghweran
    clock = SimulatedClock(SIGNED_AT)
    rt = seeded_runtime(11, clock)
    with world.unit_of_work() as uow:
        assessed = record_event(
            uow,
            rt,
            person_id,
            EventRequest(type="assessed", occurred_at=T0 + timedelta(hours=5), kind="medical", outcome="fit"),
        )
        record_event(
            uow, rt, person_id, EventRequest(type="notified", occurred_at=T0 + timedelta(hours=4), channel="icrc")
        )
        uow.commit()
    sign(world)
    with world.unit_of_work() as uow:
        correction = custody.correct(uow, rt, person_id, assessed.event.event_id, "entered for the wrong person")
        uow.commit()
    html = client.get(f"/persons/{person_id}").text
    events = {e["type"]: e for e in chain_events(html)}
    assert text_of(events["assessed"]["html"], "chain-corrected") == f"corrected by No. {correction.seq}"
    assert text_of(events["corrected"]["html"], "chain-corrects") == f"corrects No. {assessed.seq}"
    assert events["corrected"]["inclusion"] == "pending" and events["assessed"]["inclusion"] == "verified"
    assert 'data-testid="chain-late"' in events["notified"]["html"]  # occurred before the assessment logged first
    assert 'data-testid="chain-late"' not in events["assessed"]["html"]


def test_no_checkpoint_yet_means_every_event_waits(client: TestClient, scenario: Scenario) -> None:
    html = client.get(f"/persons/{scenario.women[0]}").text
    events = chain_events(html)
    assert events and all(e["inclusion"] == "pending" for e in events)
    assert "receipts/" not in html
    assert "No checkpoint has been signed yet" in text_of(html, "chain-checkpoint")


def test_a_forged_stored_hash_does_not_verify(world: Database, client: TestClient, scenario: Scenario) -> None:
    signed = sign(world)
    person_id = scenario.moved[0]
    target = seqs_of(world, person_id)[4]  # the departure (after registration, two assessments and the manifest)
    sibling = target ^ 1  # the leaf whose hash sits first in the target's proof
    drop_protection(world, "log_hashes")
    with world.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE log_hashes SET hash = :h WHERE idx = :i"),
            {"h": b"\x66" * 32, "i": stored_hash_index(0, sibling)},
        )
    html = client.get(f"/persons/{person_id}").text
    verdicts = {int(e["seq"]): e for e in chain_events(html)}
    assert verdicts[target]["inclusion"] == "failed"
    assert "does NOT verify" in verdicts[target]["html"]
    assert 'data-testid="chain-problem"' in verdicts[target]["html"]
    assert "receipts/" in verdicts[target]["html"]  # the log still hands out its (bad) proof: evidence to keep
    assert all(e["inclusion"] == "verified" for seq, e in verdicts.items() if seq != target)
    assert text_of(html, "summary-failed") == "1 does NOT verify"
    # The root the store computes reads only higher stored nodes and still matches the signed one: comparing roots
    # would miss this rewrite, checking each proof against the signed root does not.
    with world.unit_of_work() as uow:
        assert log.root(uow, signed.size) == signed.root


def test_an_edited_event_row_does_not_verify(world: Database, client: TestClient, scenario: Scenario) -> None:
    sign(world)
    person_id = scenario.men[-1]  # still at ghweran: one registration
    [seq] = seqs_of(world, person_id)
    drop_protection(world, "custody_events")
    with world.engine.begin() as conn:  # rewrite where the registration happened
        conn.execute(sa.text("UPDATE custody_events SET facility_id = 'al-hol' WHERE seq = :s"), {"s": seq})
    html = client.get(f"/persons/{person_id}").text
    [event] = chain_events(html)
    assert event["inclusion"] == "failed" and "does NOT verify" in event["html"]


def test_a_stored_checkpoint_that_disagrees_with_its_note_is_flagged(
    world: Database, client: TestClient, scenario: Scenario
) -> None:
    """The root column rewritten after signing: the panel says so, and no proof checks out against it."""
    sign(world)
    with world.engine.begin() as conn:
        if world.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER log_checkpoints_no_update")
        else:
            conn.exec_driver_sql("DROP TRIGGER log_checkpoints_append_only ON log_checkpoints")
        conn.execute(sa.text("UPDATE log_checkpoints SET root = :r"), {"r": b"\x01" * 32})
    html = client.get("/").text
    assert 'data-testid="checkpoint-note-mismatch"' in html
    assert text_of(html, "checkpoint-root") == base64.b64encode(b"\x01" * 32).decode()
    person = client.get(f"/persons/{scenario.moved[0]}").text
    assert {e["inclusion"] for e in chain_events(person)} == {"failed"}


def test_a_log_shorter_than_its_checkpoint_does_not_verify(
    world: Database, client: TestClient, scenario: Scenario
) -> None:
    """Hashes deleted after signing: the store cannot produce the proof, and the page says so (no error page)."""
    sign(world)
    person_id = scenario.men[-1]
    [seq] = seqs_of(world, person_id)
    with world.engine.begin() as conn:
        if world.engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER log_hashes_no_delete")
        else:
            conn.exec_driver_sql("DROP TRIGGER log_hashes_append_only ON log_hashes")
        conn.execute(sa.text("DELETE FROM log_hashes WHERE idx = :i"), {"i": stored_hash_index(0, seq ^ 1)})
    response = client.get(f"/persons/{person_id}")
    assert response.status_code == 200
    [event] = chain_events(response.text)
    assert event["inclusion"] == "failed"
    assert "The log cannot produce a proof" in text_of(event["html"], "chain-problem")


def test_receipt_link_downloads_a_proof_that_verifies(world: Database, client: TestClient, scenario: Scenario) -> None:
    sign(world)
    person_id = scenario.moved[0]
    html = client.get(f"/persons/{person_id}").text
    links = re.findall(r'href="(/api/v1/log/receipts/[^"]+)"[^>]*data-testid="receipt-link"', html)
    with world.unit_of_work() as uow:
        chain = uow.custody.chain(person_id)
    assert len(links) == len(chain)
    for link, stored in zip(links, chain, strict=True):
        response = client.get(link)
        assert response.status_code == 200
        assert "attachment" in response.headers["content-disposition"]
        proof = parse_proof(response.text)
        assert proof.index == stored.seq
        checkpoint = Checkpoint.parse(open_note(proof.checkpoint, [SIGNER.verifier]).text)
        assert checkpoint.origin == SIGNER.name and checkpoint.size == scenario.log_size
        assert verify_proof(proof, leaf_hash(leaf.encode(stored.event)), checkpoint)


def test_unknown_person_is_a_friendly_html_404(client: TestClient) -> None:
    response = client.get("/persons/no-such-person")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<h1" in html and "Person not found" in html
    assert text_of(html, "not-found-detail") == "No person no-such-person."
    assert 'href="/" data-testid="back-to-dashboard"' in html


def test_unknown_person_markup_is_escaped(client: TestClient) -> None:
    response = client.get("/persons/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert response.status_code == 404
    assert "<script>alert(1)" not in response.text and "&lt;script&gt;" in response.text


def test_person_page_right_to_left(world: Database, scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handover.app, "available_languages", lambda: frozenset({"en", "ar"}))
    sign(world)
    with TestClient(as_team(create_app(world))) as client:
        html = client.get(f"/persons/{scenario.moved[0]}", headers={"Accept-Language": "ar"}).text
    assert '<html lang="ar" dir="rtl">' in html
    assert 'class="hash" dir="ltr"' in html  # hashes read left to right inside a right-to-left page
