"""The table model: checked on construction, totals computed, and published with only what may go out."""

from __future__ import annotations

import pytest

from handover.core.report.tables import Cell, CellState, Published, Rounding, Table

SHOWN, PRIMARY, SECONDARY = CellState.SHOWN, CellState.PRIMARY, CellState.SECONDARY


def small() -> Table:
    return Table(("IQ", "FR"), ("men", "women"), ((120, 3), (14, 0)))


def test_totals() -> None:
    table = small()
    assert table.row_totals == (123, 14)
    assert table.column_totals == (134, 3)
    assert table.grand_total == 137
    assert table.row_total("FR") == 14
    assert table.column_total("women") == 3
    assert table.shape == (2, 2)
    assert table.count(Cell("IQ", "women")) == 3


def test_every_cell_is_shown_unless_stated() -> None:
    table = small()
    assert table.states == ((SHOWN, SHOWN), (SHOWN, SHOWN))
    assert table.suppressed == ()
    assert table.cells == (Cell("IQ", "men"), Cell("IQ", "women"), Cell("FR", "men"), Cell("FR", "women"))


def test_from_counts_fills_missing_cells_with_zero() -> None:
    table = Table.from_counts(("IQ", "FR"), ("men", "women"), {Cell("IQ", "men"): 5, Cell("FR", "women"): 2})
    assert table.counts == ((5, 0), (0, 2))
    with pytest.raises(ValueError, match="outside"):
        Table.from_counts(("IQ",), ("men",), {Cell("SY", "men"): 1})


@pytest.mark.parametrize(
    ("rows", "columns", "counts", "message"),
    [
        ((), ("a",), (), "at least one row"),
        (("a", "a"), ("x",), ((1,), (2,)), "unique"),
        (("a",), ("x", "y"), ((1,),), "1 rows of 2 columns"),
        (("a",), ("x",), ((-1,),), "non-negative"),
        (("a",), ("x",), ((1.5,),), "non-negative"),
        (("a",), ("x",), ((True,),), "non-negative"),
    ],
)
def test_bad_tables_are_refused(
    rows: tuple[str, ...], columns: tuple[str, ...], counts: tuple[tuple[int, ...], ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Table(rows, columns, counts)


def test_states_must_match_the_shape() -> None:
    with pytest.raises(ValueError, match="states"):
        Table(("a",), ("x", "y"), ((1, 2),), ((SHOWN,),))


def test_with_states_changes_only_the_named_cells() -> None:
    table = small().with_states({Cell("IQ", "women"): PRIMARY})
    assert table.states == ((SHOWN, PRIMARY), (SHOWN, SHOWN))
    assert table.suppressed == (Cell("IQ", "women"),)
    with pytest.raises(KeyError):
        table.with_states({Cell("SY", "men"): SECONDARY})


def test_published_hides_suppressed_cells_and_keeps_every_total() -> None:
    table = small().with_states({Cell("IQ", "women"): PRIMARY, Cell("FR", "women"): SECONDARY})
    published = table.published()
    assert published.cells == ((120, None), (14, None))
    assert published.row_totals == (123, 14)
    assert published.column_totals == (134, 3)
    assert published.grand_total == 137
    assert published.suppressed == (Cell("IQ", "women"), Cell("FR", "women"))
    assert published.value(Cell("FR", "men")) == 14
    assert published.bounds(14) == (14, 14)


def test_rounding_to_the_nearest_multiple_halves_up() -> None:
    five, ten = Rounding(5), Rounding(10)
    assert [five.round(n) for n in range(9)] == [0, 0, 0, 5, 5, 5, 5, 5, 10]
    assert [ten.round(n) for n in (4, 5, 14, 15)] == [0, 10, 10, 20]
    assert five.bounds(0) == (0, 2)
    assert five.bounds(20) == (18, 22)
    assert ten.bounds(10) == (5, 14)
    for base in (2, 3, 5, 10):
        rounding = Rounding(base)
        for n in range(60):
            low, high = rounding.bounds(rounding.round(n))
            assert low <= n <= high
            assert all(rounding.round(m) == rounding.round(n) for m in range(low, high + 1))
    with pytest.raises(ValueError, match="multiple"):
        five.bounds(7)
    with pytest.raises(ValueError, match="at least 2"):
        Rounding(1)


def test_a_rounded_table_rounds_cells_and_totals_independently() -> None:
    table = Table(("a", "b"), ("x", "y"), ((12, 13), (11, 0)), rounding=Rounding(5))
    published = table.published()
    assert published.cells == ((10, 15), (10, 0))
    assert published.row_totals == (25, 10)  # 25 and 11, not 10 + 15 and 10 + 0
    assert published.column_totals == (25, 15)  # 23 and 13
    assert published.grand_total == 35  # 36
    assert published.bounds(25) == (23, 27)


def test_a_published_table_is_checked() -> None:
    with pytest.raises(ValueError, match="published as None"):
        Published(("a",), ("x",), ((None,),), ((SHOWN,),), (1,), (1,), 1)
    with pytest.raises(ValueError, match="published as 1"):
        Published(("a",), ("x",), ((1,),), ((PRIMARY,),), (1,), (1,), 1)
    with pytest.raises(ValueError, match="multiple"):
        Published(("a",), ("x",), ((10,),), ((SHOWN,),), (10,), (10,), 12, Rounding(5))
