"""Page tests sign real accounts in: their passwords are hashed with Argon2id at test strength."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.accounts import cheap_hashing


@pytest.fixture(autouse=True)
def _cheap_hashing() -> Iterator[None]:
    with cheap_hashing():
        yield
