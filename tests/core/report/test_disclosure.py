"""The disclosure rules, one by one: primary suppression and zeros, the attack, protection, rounding, differencing."""

from __future__ import annotations

import pytest

from handover.core.report.disclosure import (
    Audit,
    DifferenceKind,
    Interval,
    Rules,
    attainable,
    audit,
    check_differencing,
    is_primary,
    primary,
    protect,
    recover,
)
from handover.core.report.tables import Axis, Cell, CellState, Published, Table, Total

SHOWN, PRIMARY, SECONDARY = CellState.SHOWN, CellState.PRIMARY, CellState.SECONDARY


def table(*lines: tuple[int, ...]) -> Table:
    """Rows a, b, c, ... and columns x, y, z, w, ..."""
    rows = tuple("abcdefgh"[: len(lines)])
    columns = tuple("xyzwvu"[: len(lines[0])])
    return Table(rows, columns, tuple(lines))


def states(t: Table) -> list[str]:
    """The states as strings: '.' shown, 'P' primary, 'S' secondary, one string per row."""
    mark = {SHOWN: ".", PRIMARY: "P", SECONDARY: "S"}
    return ["".join(mark[s] for s in line) for line in t.states]


# Primary suppression


@pytest.mark.parametrize(("count", "primary_"), [(0, False), (1, True), (9, True), (10, False), (60, False)])
def test_counts_below_the_threshold_are_primary(count: int, primary_: bool) -> None:
    assert is_primary(count, 100, 100) is primary_


def test_the_threshold_is_configurable() -> None:
    rules = Rules(threshold=5)
    assert is_primary(4, 100, 100, rules)
    assert not is_primary(5, 100, 100, rules)
    assert states(primary(table((4, 5, 30), (6, 20, 40)), rules)) == ["P..", "..."]


def test_rules_are_checked() -> None:
    with pytest.raises(ValueError, match="threshold"):
        Rules(threshold=0)
    with pytest.raises(ValueError, match="protection"):
        Rules(protection=0)
    with pytest.raises(ValueError, match="base"):
        Rules(rounding=1)
    assert Rules().protection_width == 10
    assert Rules(threshold=5).protection_width == 5
    assert Rules(protection=15).protection_width == 15


# Zeros


@pytest.mark.parametrize(
    ("row_total", "column_total", "suppressed"),
    [
        (4, 30, True),  # a small row: none of its 4 is in this column
        (30, 4, True),  # a small column
        (30, 40, False),  # both lines large: a fact about large groups
        (0, 4, False),  # an empty row: its published total 0 already says the cell is 0
        (4, 0, False),  # an empty column
        (0, 0, False),
    ],
)
def test_a_zero_is_disclosive_in_a_small_line_that_is_not_empty(
    row_total: int, column_total: int, suppressed: bool
) -> None:
    assert is_primary(0, row_total, column_total) is suppressed
    assert not is_primary(0, row_total, column_total, Rules(zeros_disclosive=False))


def test_a_small_row_is_suppressed_whole_except_zeros_the_totals_give_away() -> None:
    t = table((4, 0, 0), (20, 30, 0))
    # (a, y): row a holds 4, column y 30: suppressed. (a, z) and (b, z): column z is empty: shown.
    assert states(primary(t)) == ["PP.", "..."]
    assert states(primary(t, Rules(zeros_disclosive=False))) == ["P..", "..."]


# The attack


def test_the_attack_recovers_a_lone_small_cell_of_an_unprotected_table() -> None:
    unprotected = primary(table((20, 3, 30), (15, 25, 40), (12, 18, 50)))
    assert unprotected.suppressed == (Cell("a", "y"),)
    assert recover(unprotected) == {Cell("a", "y"): Interval(3, 3)}
    result = audit(unprotected)
    assert result.recovered == (Cell("a", "y"),)
    assert result.required == {Cell("a", "y"): 10}
    assert not result.safe


def test_the_attack_finds_the_rectangle_intervals() -> None:
    # Four cells in a rectangle can all move by t: (a,x) + t, (a,y) - t, (b,x) - t, (b,y) + t, with every cell >= 0.
    t = table((3, 11, 50), (40, 12, 60), (45, 70, 80))
    hidden = t.with_states({Cell(r, c): SECONDARY for r in "ab" for c in "xy"})
    assert recover(hidden) == {
        Cell("a", "x"): Interval(0, 14),
        Cell("a", "y"): Interval(0, 14),
        Cell("b", "x"): Interval(29, 43),
        Cell("b", "y"): Interval(9, 23),
    }


def test_with_only_totals_published_the_intervals_are_the_frechet_bounds() -> None:
    t = table((3, 20), (25, 30))
    # max(0, R + C - N) <= cell <= min(R, C)
    assert attainable(t) == {
        Cell("a", "x"): min(23, 28) - max(0, 23 + 28 - 78),
        Cell("a", "y"): min(23, 50) - max(0, 23 + 50 - 78),
        Cell("b", "x"): min(55, 28) - max(0, 55 + 28 - 78),
        Cell("b", "y"): min(55, 50) - max(0, 55 + 50 - 78),
    }


def test_the_attack_reads_only_what_is_published() -> None:
    t = primary(table((20, 3, 30), (15, 25, 40), (12, 18, 50)))
    assert recover(t.published()) == recover(t)


def test_inconsistent_published_figures_are_refused() -> None:
    bad = Published(("a",), ("x", "y"), ((5, None),), ((SHOWN, PRIMARY),), (3,), (5, 1), 3)
    with pytest.raises(ValueError, match="admit no table"):
        recover(bad)


# Protection


def test_protect_suppresses_the_smallest_cells_that_protect_a_lone_small_cell() -> None:
    t = table((3, 11, 50), (40, 12, 60), (45, 70, 80))
    protected = protect(t)
    assert states(protected) == ["PS.", "SS.", "..."]
    assert protected.counts == t.counts
    result = audit(protected)
    assert result.safe
    assert all(interval.width >= 10 for interval in result.intervals.values())


def test_protect_leaves_a_table_without_small_cells_alone() -> None:
    t = table((30, 11, 50), (40, 12, 60), (0, 70, 80))
    assert states(protect(t)) == ["...", "...", "..."]


def test_a_wider_protection_asks_for_more() -> None:
    t = table((3, 11, 50), (40, 12, 60), (45, 70, 80))
    result = audit(protect(t, Rules(protection=20)), Rules(protection=20))
    assert result.safe
    assert min(interval.width for interval in result.intervals.values()) >= 20


def test_cells_the_totals_pin_are_exposed_and_protect_still_ends() -> None:
    # Row a holds 4 people: every cell of it lies within [0, 4] whatever is suppressed.
    t = table((4, 0, 0), (20, 30, 5), (25, 35, 40))
    protected = protect(t)
    result = audit(protected)
    assert result.recovered == ()
    assert set(result.exposed) == {Cell("a", "x"), Cell("a", "y"), Cell("a", "z")}
    assert not result.safe
    reach = attainable(protected)
    for cell in result.exposed:
        assert result.intervals[cell].width == reach[cell] <= 4  # as wide as the totals allow, no wider


def test_a_cell_the_totals_determine_is_never_safe() -> None:
    # Only row b has people, so each cell of it is its column total: (b, x) = 5 whatever is suppressed.
    t = table((0, 0), (5, 30))
    protected = protect(t)
    assert protected.state(Cell("b", "x")) is PRIMARY
    result = audit(protected)
    assert result.intervals[Cell("b", "x")] == Interval(5, 5)
    assert result.recovered == ()
    assert result.exposed == (Cell("b", "x"),)
    assert not result.safe


def test_audit_result_is_plain_data() -> None:
    result = audit(protect(table((3, 11, 50), (40, 12, 60), (45, 70, 80))))
    assert isinstance(result, Audit)
    assert set(result.intervals) == set(result.required)


# Rounding


def test_rounding_widens_what_the_attack_can_conclude() -> None:
    rules = Rules(rounding=5)
    t = primary(table((20, 3, 30), (15, 25, 40), (12, 18, 50)), rules)
    assert t.published().cells == ((20, None, 30), (15, 25, 40), (10, 20, 50))
    # Row a: total 53 -> 55 (53..57), 20 -> 18..22, 30 -> 28..32: the 3 lies in [0, 11] but the column says more.
    interval = recover(t)[Cell("a", "y")]
    assert interval.low <= 3 <= interval.high
    assert 0 < interval.width < 10
    protected = protect(table((20, 3, 30), (15, 25, 40), (12, 18, 50)), rules)
    assert protected.rounding is not None and protected.rounding.base == 5
    assert audit(protected, rules).recovered == ()


def test_rounding_never_changes_the_counts_nor_shows_a_primary_cell() -> None:
    rules = Rules(rounding=10)
    t = table((20, 3, 30), (15, 25, 40), (12, 18, 50))
    protected = protect(t, rules)
    assert protected.counts == t.counts
    assert protected.state(Cell("a", "y")) is PRIMARY
    assert protected.published().value(Cell("a", "y")) is None


# Successive releases


def test_a_cell_shown_before_and_suppressed_now_is_pinned_by_the_difference() -> None:
    before = protect(table((12, 20, 40), (0, 35, 45), (50, 60, 70)))
    assert before.suppressed == ()
    after = protect(table((13, 20, 40), (4, 35, 45), (50, 60, 70)))
    assert after.state(Cell("b", "x")) is PRIMARY
    assert after.state(Cell("a", "x")) is SECONDARY
    assert audit(after).safe  # each release alone is safe

    found = check_differencing(before, after)
    suppressed = {f.subject: f for f in found if f.kind is DifferenceKind.SUPPRESSED}
    # Column y's suppressed cells were 20 and 35 before, can only grow, and now add up to 115 - 60 = 55: both are
    # pinned, and with them every other suppressed cell through the totals.
    assert {cell: f.interval for cell, f in suppressed.items()} == {
        Cell("a", "x"): Interval(13, 13),
        Cell("a", "y"): Interval(20, 20),
        Cell("b", "x"): Interval(4, 4),
        Cell("b", "y"): Interval(35, 35),
    }
    assert all(f.release == "current" for f in suppressed.values())
    alone = suppressed[Cell("b", "x")].alone
    assert alone is not None and alone.width >= 10
    assert "suppressed in the current release" in str(suppressed[Cell("a", "x")])


def test_a_cell_suppressed_before_is_bounded_by_what_is_shown_later() -> None:
    before = protect(table((3, 11, 50), (40, 12, 60), (45, 70, 80)))
    assert states(before) == ["PS.", "SS.", "..."]
    # Before, the rectangle could move by t: (a, x) = 3 + t, (b, x) = 40 - t, (b, y) = 12 + t. Later every cell is
    # shown, and none can have fallen: (b, x) <= 40 and (b, y) <= 14, so 0 <= t <= 2.
    after = protect(table((13, 21, 50), (40, 14, 60), (45, 70, 80)))
    assert after.suppressed == ()
    found = {
        (f.subject, f.release): f for f in check_differencing(before, after) if f.kind is DifferenceKind.SUPPRESSED
    }
    assert found[Cell("a", "x"), "previous"].interval == Interval(3, 5)
    assert found[Cell("a", "x"), "previous"].alone == Interval(0, 14)


def test_a_total_moving_by_a_few_with_one_cell_changed_pins_that_cell() -> None:
    before = protect(table((30, 40), (50, 60)))
    after = protect(table((33, 40), (50, 60)))
    found = check_differencing(before, after)
    assert {(f.kind, f.subject, f.interval) for f in found} == {
        (DifferenceKind.CELL, Cell("a", "x"), Interval(3, 3)),
        (DifferenceKind.TOTAL, Total(Axis.ROW, "a"), Interval(3, 3)),
        (DifferenceKind.TOTAL, Total(Axis.COLUMN, "x"), Interval(3, 3)),
        (DifferenceKind.TOTAL, Total(Axis.GRAND, ""), Interval(3, 3)),
    }
    assert "a small group" in str(found[0])


def test_rounding_does_not_hide_a_small_change_it_only_blurs_it() -> None:
    rules = Rules(rounding=5)
    found = check_differencing(protect(table((30, 40), (50, 60)), rules), protect(table((33, 40), (50, 60)), rules))
    cell = next(f for f in found if f.kind is DifferenceKind.CELL)
    assert cell.subject == Cell("a", "x")
    assert cell.interval.low <= 3 <= cell.interval.high
    assert cell.interval.width < 10


def test_large_changes_give_nothing_away() -> None:
    before = protect(table((30, 40), (50, 60)))
    after = protect(table((45, 52), (61, 75)))
    assert check_differencing(before, after) == ()


def test_the_same_release_twice_gives_nothing_away() -> None:
    release = protect(table((3, 11, 50), (40, 12, 60), (45, 70, 80)))
    assert release.suppressed
    assert check_differencing(release, release) == ()


def test_differencing_matches_cells_by_name() -> None:
    before = protect(table((30, 40), (50, 60)))
    after = Table(("b", "a"), ("y", "x"), ((60, 50), (40, 33)))
    kinds = {(f.kind, f.subject) for f in check_differencing(before, protect(after))}
    assert (DifferenceKind.CELL, Cell("a", "x")) in kinds


def test_differencing_needs_cumulative_releases_of_the_same_table() -> None:
    with pytest.raises(ValueError, match="same rows and columns"):
        check_differencing(table((30, 40)), table((30, 40), (1, 2)))
    with pytest.raises(ValueError, match="not cumulative"):
        check_differencing(table((30, 40)), table((29, 45)))
