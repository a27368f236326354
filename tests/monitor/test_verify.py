"""`handover verify` on an honest log, over HTTP (the real server in-process) and over an exported directory; what it
says about keys, signatures, state files, counts and bad arguments."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from handover.app import create_app
from handover.core.policy.access import Role
from handover.core.tlog.note import Signer
from handover.monitor.state import default_state_path
from handover.services import monitor, queries
from handover.services.runtime import SimulatedClock, seeded_runtime
from tests.factories import T0
from tests.monitor.conftest import (
    BASE_URL,
    EXTRA,
    SIGNER,
    TOKEN,
    VKEY,
    AppTransport,
    LogWorld,
    Verify,
    add_monitor,
    export,
    verdict,
)
from tests.scenarios import IN_TRANSIT, MOVED
from tests.support.accounts import cheap_hashing, make_user, token_for


def test_an_honest_log_verifies_over_http(
    logged: LogWorld, server: AppTransport, verify: Verify, tmp_path: Path
) -> None:
    result = verify(BASE_URL, transport=server)
    assert result.exit_code == 0, result.output
    size = logged.size()
    people = logged.scenario.registered + EXTRA
    line = verdict(result)
    assert line.startswith("verified:") and f"size {size}," in line
    assert f"{people} people, {size} events" in line
    for step in ("1 checkpoint", "2 entries", "3 tiles", "4 history", "5 custody", "6 counts"):
        assert step in result.output
    state = json.loads((tmp_path / "verify-state.json").read_text())
    assert (state["origin"], state["size"]) == (SIGNER.name, size)


def test_an_honest_log_verifies_from_an_exported_directory(logged: LogWorld, verify: Verify, tmp_path: Path) -> None:
    directory = export(logged.db, tmp_path / "export")
    code, body = verify.json(str(directory))
    assert code == 0, body
    assert body["verified"] and body["failure"] is None
    assert body["size"] == body["events"] == logged.size()
    assert body["people"] == logged.scenario.registered + EXTRA
    assert body["counts_compared"] is True
    assert body["warnings"] == []
    assert [s["name"] for s in body["steps"]] == ["checkpoint", "entries", "tiles", "history", "custody", "counts"]


def test_the_counts_the_chains_give_are_the_servers(logged: LogWorld) -> None:
    from handover.core.custody import leaf
    from handover.monitor import checks

    with logged.db.unit_of_work(read_only=True) as uow:
        events = [leaf.decode(leaf.encode(s.event)) for s in uow.custody.all_events()]
        status = queries.status(uow).as_dict()
    derived = checks.derive_counts(checks.fold_chains(events))
    assert derived["moved"] == MOVED and derived["in_transit"] == IN_TRANSIT
    checks.compare_counts(derived, status)  # raises on any difference


def test_a_second_run_after_the_log_grew_passes(
    logged: LogWorld, server: AppTransport, verify: Verify, tmp_path: Path
) -> None:
    first = logged.size()
    assert verify(BASE_URL, transport=server).exit_code == 0
    logged.grow(7)
    logged.sign()
    result = verify(BASE_URL, transport=server)
    assert result.exit_code == 0, result.output
    assert f"extends the checkpoint of size {first}" in result.output
    assert f"size {first + 7}," in verdict(result)
    assert json.loads((tmp_path / "verify-state.json").read_text())["size"] == first + 7
    # And the same tree again: nothing new, still consistent.
    assert verify(BASE_URL, transport=server).exit_code == 0


def test_the_default_state_file_is_per_origin_under_xdg_state_home(
    logged: LogWorld, server: AppTransport, verify: Verify, _state_home: Path
) -> None:
    result = verify(BASE_URL, transport=server, default_state=True)
    assert result.exit_code == 0, result.output
    path = default_state_path(SIGNER.name)
    assert path.parent == _state_home / "handover" and path.name.startswith("verify-")
    assert json.loads(path.read_text())["size"] == logged.size()


def test_over_a_real_socket(logged: LogWorld, verify: Verify) -> None:
    """The HTTP source with httpx2's own transport, against the server under uvicorn on a free port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    add_monitor(logged.db)
    app = create_app(logged.db, checkpoint_interval=0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the test server did not start"
            time.sleep(0.05)
        result = verify(f"http://127.0.0.1:{port}", "--identities")
        assert result.exit_code == 0, result.output
        assert verdict(result).startswith("verified:")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_a_wrong_key_is_refused(logged: LogWorld, server: AppTransport, verify: Verify) -> None:
    impostor = Signer.generate(SIGNER.name)  # same name, another key
    result = verify(BASE_URL, transport=server, vkey=impostor.verifier.vkey)
    assert result.exit_code == 1, result.output
    line = verdict(result)
    assert line.startswith("NOT VERIFIED: checkpoint: not signed by")
    assert f"{impostor.name}+{impostor.key_id:08x}" in line


def test_a_key_for_another_origin_is_refused(logged: LogWorld, server: AppTransport, verify: Verify) -> None:
    result = verify(BASE_URL, transport=server, vkey=Signer.generate("elsewhere.example/log").verifier.vkey)
    assert result.exit_code == 1
    assert "checkpoint: not signed by" in verdict(result)


def test_a_tampered_checkpoint_signature_is_caught(logged: LogWorld, verify: Verify, tmp_path: Path) -> None:
    directory = export(logged.db, tmp_path / "export")
    note = (directory / "checkpoint").read_text()
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) + 1)  # claim one more entry than was signed
    (directory / "checkpoint").write_text("\n".join(lines))
    result = verify(str(directory))
    assert result.exit_code == 1
    assert verdict(result).startswith("NOT VERIFIED: checkpoint: the signature by")
    assert "altered after it was signed" in verdict(result)
    # A mangled signature line is caught as well.
    (directory / "checkpoint").write_text(note.replace("— ", "— x", 1))
    result = verify(str(directory))
    assert result.exit_code == 1 and "checkpoint:" in verdict(result)


def test_the_key_may_be_given_as_a_file(logged: LogWorld, verify: Verify, tmp_path: Path) -> None:
    directory = export(logged.db, tmp_path / "export")
    key = tmp_path / "log.vkey"
    key.write_text(VKEY + "\n")
    assert verify(str(directory), vkey=str(key)).exit_code == 0


def test_counts_are_not_compared_when_the_server_is_ahead_of_its_checkpoint(
    logged: LogWorld, server: AppTransport, verify: Verify
) -> None:
    signed = logged.size()
    logged.grow(3)  # no new checkpoint: the server's counts stand on 3 more events
    code, body = verify.json(BASE_URL, transport=server)
    assert code == 0, body
    assert body["counts_compared"] is False
    assert body["warnings"] == [
        f"counts not compared: the server's counts stand on log size {signed + 3}, the checkpoint on {signed}."
    ]


def test_counts_that_disagree_with_the_chains_are_caught(
    logged: LogWorld, server: AppTransport, verify: Verify
) -> None:
    # The projection says one man still at ghweran is at karkh: the status page would lie.
    person = logged.scenario.men[-1]
    logged.execute("UPDATE custody_current SET facility_id = 'karkh' WHERE person_id = :p", p=person)
    result = verify(BASE_URL, transport=server)
    assert result.exit_code == 1, result.output
    assert verdict(result) == (
        "NOT VERIFIED: counts: people moved: the server says 13, the custody chains in the log give 12."
    )


def test_identities_verify_over_http_and_from_a_directory(
    logged: LogWorld, server: AppTransport, verify: Verify, tmp_path: Path
) -> None:
    people = logged.scenario.registered + EXTRA
    code, body = verify.json(BASE_URL, "--identities", transport=server)
    assert code == 0, body
    assert body["identities_checked"] == people
    directory = export(logged.db, tmp_path / "export")
    # An exporter that also writes identity records (JSON lines, as GET /log/identities answers).
    with logged.db.unit_of_work(read_only=True) as uow:
        records = list(monitor.identity_records(uow))
    (directory / "identities").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    code, body = verify.json(str(directory), "--identities")
    assert code == 0, body
    assert body["identities_checked"] == people


def test_identities_need_a_monitor_account(logged: LogWorld, server: AppTransport) -> None:
    client = server.client
    assert client.get("/log/identities").status_code == 401
    assert client.get("/log/identities", headers={"Authorization": "Bearer hvr_wrong"}).status_code == 401
    answer = client.get("/log/identities", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    lines = answer.text.splitlines()
    assert len(lines) == logged.scenario.registered + EXTRA
    first = json.loads(lines[0])
    assert set(first) == {"person_id", "salt", "identity"}
    assert [json.loads(line)["person_id"] for line in lines] == sorted(json.loads(line)["person_id"] for line in lines)


def test_a_token_of_an_account_that_is_not_a_monitors_is_refused(
    logged: LogWorld, server: AppTransport, verify: Verify
) -> None:
    rt = seeded_runtime(77, SimulatedClock(T0))
    with cheap_hashing():
        planner = make_user(logged.db, rt, "planner", Role.PLANNER)
    token = token_for(logged.db, rt, planner)
    assert server.client.get("/log/identities", headers={"Authorization": f"Bearer {token}"}).status_code == 403
    result = verify(BASE_URL, transport=server, token=token)
    assert result.exit_code == 2, result.output
    assert "refused access (HTTP 403)" in result.output and "log:read" in result.output
    assert token not in result.output


def test_identities_from_a_directory_without_them_cannot_be_checked(
    logged: LogWorld, verify: Verify, tmp_path: Path
) -> None:
    directory = export(logged.db, tmp_path / "export")
    result = verify(str(directory), "--identities")
    assert result.exit_code == 2
    assert "publishes no identity records" in result.output


@pytest.mark.parametrize(
    ("source", "options", "message"),
    [
        ("http://127.0.0.1:9", {}, "http://127.0.0.1:9/log/checkpoint is out of reach"),
        ("/nonexistent/handover-export", {}, "neither an http(s) URL nor a directory"),
        ("SERVER", {"token": None}, "needs an API token of a monitor's account"),
        ("SERVER", {"token": "wrong"}, "refused access (HTTP 401)"),
        ("SERVER", {"vkey": "not a key"}, "--vkey is neither a verifier key nor a file holding one"),
        ("SERVER", {"vkey": SIGNER.skey}, "--vkey is a private signing key"),
    ],
)
def test_usage_errors_exit_2(
    logged: LogWorld,
    server: AppTransport,
    verify: Verify,
    source: str,
    options: dict[str, str | None],
    message: str,
) -> None:
    transport = server if source == "SERVER" else None
    result = verify(BASE_URL if transport else source, transport=transport, **options)  # type: ignore[arg-type]
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert SIGNER.skey not in result.output


def test_a_state_file_that_is_not_ours_is_a_usage_error(
    logged: LogWorld, server: AppTransport, verify: Verify, tmp_path: Path
) -> None:
    state = tmp_path / "verify-state.json"
    assert verify(BASE_URL, transport=server).exit_code == 0
    record = json.loads(state.read_text())
    record["size"] += 1
    state.write_text(json.dumps(record))
    result = verify(BASE_URL, transport=server)
    assert result.exit_code == 2
    assert "is not a checkpoint this key signed" in result.output
    state.write_text("{not json")
    assert verify(BASE_URL, transport=server).exit_code == 2


def test_json_output_names_the_failure(logged: LogWorld, server: AppTransport, verify: Verify) -> None:
    code, body = verify.json(BASE_URL, transport=server, vkey=Signer.generate(SIGNER.name).verifier.vkey)
    assert code == 1
    assert body["verified"] is False
    assert body["failure"]["what"] == "bad-signature"
    assert body["failure"]["path"] == "checkpoint"
    code, body = verify.json(BASE_URL, transport=server, token="wrong")
    assert code == 2 and body == {"verified": False, "usage_error": body["usage_error"]}
