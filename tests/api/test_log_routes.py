"""The log over HTTP: tiles, entry bundles, proofs, and the server's own checkpoint signing (both backends)."""

from __future__ import annotations

import base64
import time

from fastapi.testclient import TestClient

from handover.app import create_app
from handover.core.custody import leaf
from handover.core.policy.access import Role
from handover.core.tlog.checkpoint import Checkpoint
from handover.core.tlog.hashing import leaf_hash
from handover.core.tlog.note import Signer, open_note
from handover.core.tlog.tiles import decode_bundle
from handover.core.tlog.tree import check_consistency, check_inclusion
from handover.services import log
from handover.services.registry import NewPerson, register_people
from handover.services.runtime import SimulatedClock, seeded_runtime
from handover.store.uow import Database
from tests.factories import T0, man
from tests.support.accounts import bearer, cheap_hashing, make_user, token_for

SIGNER = Signer.generate("test.handover.example/routes")


def _token(db: Database, name: str, role: Role, seed: int) -> dict[str, str]:
    """Authorization headers with an API token of a new account of `role`."""
    rt = seeded_runtime(seed, SimulatedClock(T0))
    with cheap_hashing():
        return bearer(token_for(db, rt, make_user(db, rt, name, role)))


def _grow(db: Database, seed: int, count: int) -> None:
    with db.unit_of_work() as uow:
        register_people(
            uow, seeded_runtime(seed, SimulatedClock(T0)), [NewPerson(man(i), "ghweran") for i in range(count)], T0
        )
        uow.commit()


def _sign(db: Database) -> None:
    with db.unit_of_work() as uow:
        log.sign_checkpoint(uow, SIGNER, T0)
        uow.commit()


def test_tiles_bundles_and_proofs(world: Database) -> None:
    _grow(world, 1, 200)
    _sign(world)
    _grow(world, 2, 100)
    _sign(world)  # size 300
    client = TestClient(create_app(world))
    monitor = _token(world, "monitor", Role.MONITOR, 91)
    planner = _token(world, "planner", Role.PLANNER, 92)

    note = client.get("/log/checkpoint")
    assert note.status_code == 200 and note.headers["cache-control"] == "no-cache"
    checkpoint = Checkpoint.parse(open_note(note.text, [SIGNER.verifier]).text)
    assert checkpoint.size == 300

    full = client.get("/log/tile/0/000")
    assert full.status_code == 200 and len(full.content) == 256 * 32
    assert "immutable" in full.headers["cache-control"]
    assert client.get("/log/tile/0/001.p/44").status_code == 200  # the partial tile at size 300
    assert client.get("/log/tile/0/001.p/43").status_code == 404  # no checkpoint at size 299
    assert client.get("/log/tile/0/002").status_code == 404  # beyond the tree
    assert client.get("/log/tile/nonsense").status_code == 404

    # Entry bundles and identity records: a monitor's account only (log:read), never the public or a planner.
    for path in ("/log/tile/entries/000", "/log/identities"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=planner).status_code == 403
        assert client.get(path, headers=monitor).status_code == 200
    bundle = client.get("/log/tile/entries/000", headers=monitor)
    entries = decode_bundle(bundle.content)
    assert len(entries) == 256 and all(leaf.decode(e) for e in entries)

    proof = client.get("/api/v1/log/inclusion", params={"index": 7, "size": 300}).json()
    hashes = [base64.b64decode(h) for h in proof["proof"]]
    assert check_inclusion(hashes, 300, checkpoint.root, 7, leaf_hash(entries[7]))
    consistency = client.get("/api/v1/log/consistency", params={"from": 200, "to": 300}).json()
    with world.unit_of_work() as uow:
        old_root = log.root(uow, 200)
    assert check_consistency([base64.b64decode(h) for h in consistency["proof"]], 300, checkpoint.root, 200, old_root)
    assert client.get("/api/v1/log/inclusion", params={"index": 300, "size": 300}).status_code == 400
    assert client.get("/api/v1/log/consistency", params={"from": 0, "to": 300}).status_code == 422


def test_the_server_signs_a_checkpoint_when_the_log_grows(world: Database) -> None:
    _grow(world, 1, 5)
    app = create_app(world, signer=SIGNER, checkpoint_interval=0.05)
    with TestClient(app) as client:  # the lifespan starts the background signer
        assert _wait_for_size(client, 5)
        _grow(world, 2, 3)
        assert _wait_for_size(client, 8)
    with world.unit_of_work() as uow:
        assert uow.log.latest_checkpoint().size == 8  # type: ignore[union-attr]


def _wait_for_size(client: TestClient, size: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = client.get("/api/v1/log/checkpoint")
        if answer.status_code == 200 and answer.json()["size"] == size:
            return True
        time.sleep(0.05)
    return False
