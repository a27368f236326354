"""A real HTTP server for browser tests: the app under uvicorn in a thread, on a free local port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2 as httpx
import pytest
import uvicorn
from fastapi import FastAPI

from handover.store.uow import Database
from tests.factories import add_world


def world_database(tmp_path_factory: pytest.TempPathFactory) -> Database:
    """A migrated SQLite file holding the small reference world, for a browser test's server."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'handover.sqlite3'}")
    db.migrate()
    with db.unit_of_work() as uow:
        add_world(uow)
        uow.commit()
    return db


@contextmanager
def serve(app: FastAPI, ready_path: str = "/api/v1/status") -> Iterator[str]:
    """Run `app` until the block ends; yields its base URL once `ready_path` answers 200."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if server.started and httpx.get(url + ready_path, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
