"""The sample release (synthetic figures, protected by the core's own rules when it was made) and a builder for
small documents with chosen tables.

The true counts behind the sample's suppressed cells are kept here, never in the document: the tests check that no
renderer ever prints them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest

SAMPLE = Path(__file__).resolve().parent / "sample_release.json"

# (table, row, column) -> the true count of a suppressed cell of the sample, for the "never printed" checks.
HIDDEN = {
    ("moved_by_nationality_and_group", "IQ", "men"): 127,
    ("moved_by_nationality_and_group", "RU", "men"): 52,
    ("moved_by_nationality_and_group", "other", "men"): 66,
    ("moved_by_nationality_and_group", "TN", "women"): 13,
    ("held_by_facility_and_estate", "hout", "adult_men"): 112,
    ("held_by_facility_and_estate", "sinaa", "adult_men"): 980,
    ("awaiting_safeguards_by_facility_and_estate", "ghweran", "adult_men"): 201,
}
# Tunisia's row: total 77, men 58 shown, women and boys suppressed; their sum, 19, is public but never labelled.
TUNISIA_SUPPRESSED_SUM = 19


@cache
def _sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture
def sample() -> dict[str, Any]:
    """A fresh copy of the sample release, free to change."""
    return copy.deepcopy(_sample())


def frozen_sample() -> dict[str, Any]:
    """The sample, shared: for module-scoped renders that must not change it."""
    return _sample()


def table(
    name: str,
    counts: Sequence[Sequence[int]],
    *,
    suppressed: Sequence[tuple[int, int]] = (),
    rows: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """A table of the document format from true counts: totals from the counts, null where suppressed."""
    rows = list(rows) if rows is not None else [f"r{i}" for i in range(len(counts))]
    width = len(counts[0]) if counts else 0
    columns = list(columns) if columns is not None else [f"c{j}" for j in range(width)]
    hidden = set(suppressed)
    return {
        "name": name,
        "title": title or name.replace("_", " ").capitalize(),
        "rows_are": "row",
        "columns_are": "column",
        "cumulative": True,
        "needs_identities": False,
        "rows": [{"key": r, "label": r, "members": [r]} for r in rows],
        "columns": [{"key": c, "label": c, "members": [c]} for c in columns],
        "cells": [[None if (i, j) in hidden else n for j, n in enumerate(line)] for i, line in enumerate(counts)],
        "states": [
            ["primary" if (i, j) in hidden else "shown" for j in range(len(line))] for i, line in enumerate(counts)
        ],
        "row_totals": [sum(line) for line in counts],
        "column_totals": [sum(line[j] for line in counts) for j in range(width)],
        "grand_total": sum(sum(line) for line in counts),
    }


def document(*tables: dict[str, Any], context: dict[str, Any] | None = None) -> dict[str, Any]:
    """The sample's frame (checkpoint, rules, counts) holding only the given tables."""
    doc = copy.deepcopy(_sample())
    doc["tables"] = list(tables)
    if context is not None:
        doc["context"] = context
    return doc
