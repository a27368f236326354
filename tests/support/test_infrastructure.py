"""The test infrastructure itself works: a real PostgreSQL server and a real browser."""

from __future__ import annotations

import psycopg
import pytest
from playwright.sync_api import sync_playwright

from tests.support.browser import launch
from tests.support.pg_server import PostgresServer


@pytest.mark.postgres
def test_postgres_server_starts_answers_and_goes_away() -> None:
    with PostgresServer() as pg:
        root = pg._root
        assert root is not None and root.is_dir()
        with psycopg.connect(pg.url.replace("+psycopg", "")) as conn:
            (version,) = conn.execute("select version()").fetchone() or ("",)
        assert version.startswith("PostgreSQL")

        other = pg.create_database("handover_other")
        with psycopg.connect(other.replace("+psycopg", "")) as conn:
            assert conn.execute("select current_database()").fetchone() == ("handover_other",)
    assert not root.exists()


@pytest.mark.browser
def test_chromium_loads_a_page() -> None:
    with sync_playwright() as p, launch(p) as browser:
        page = browser.new_page()
        page.goto("data:text/html,<h1>ok</h1>")
        assert page.locator("h1").inner_text() == "ok"
