"""Property tests: protected random tables resist the attack, and the attack is exactly the whole-number attack."""

from __future__ import annotations

import itertools

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from handover.core.report.disclosure import (
    DifferenceKind,
    Interval,
    Rules,
    attainable,
    audit,
    check_differencing,
    primary,
    protect,
    recover,
)
from handover.core.report.tables import Axis, Cell, CellState, Published, Rounding, Table


def named(counts: list[list[int]]) -> Table:
    return Table(
        tuple(f"r{i}" for i in range(len(counts))),
        tuple(f"c{j}" for j in range(len(counts[0]))),
        tuple(tuple(line) for line in counts),
    )


@st.composite
def tables(draw: st.DrawFn, most_rows: int = 6, most_columns: int = 6, largest: int = 60) -> Table:
    rows = draw(st.integers(2, most_rows))
    columns = draw(st.integers(2, most_columns))
    # Half the cells near the threshold, so that small cells, zeros and small lines are common.
    count = st.one_of(st.integers(0, min(12, largest)), st.integers(0, largest))
    return named([[draw(count) for _ in range(columns)] for _ in range(rows)])


rules_strategy = st.builds(
    Rules,
    threshold=st.sampled_from([5, 10]),
    zeros_disclosive=st.booleans(),
    rounding=st.sampled_from([None, None, 5]),
)


@settings(max_examples=40, deadline=None)
@given(tables(), rules_strategy)
def test_after_protect_the_attack_recovers_no_suppressed_cell(table: Table, rules: Rules) -> None:
    protected = protect(table, rules)

    assert protected.counts == table.counts
    first = primary(table, rules)
    for cell in table.cells:
        # every primary cell stays suppressed, and only primary cells are primary
        assert (protected.state(cell) is CellState.PRIMARY) == (first.state(cell) is CellState.PRIMARY)

    published = protected.published()
    rounding = Rounding(rules.rounding) if rules.rounding else None
    for cell in table.cells:
        expected = table.count(cell) if rounding is None else rounding.round(table.count(cell))
        if protected.state(cell) is CellState.SHOWN:
            assert published.value(cell) == expected  # no shown cell changed
        else:
            assert published.value(cell) is None

    result = audit(protected, rules)
    assert result.recovered == ()
    reach = attainable(protected)
    for cell, interval in result.intervals.items():
        assert interval.low <= table.count(cell) <= interval.high
        assert interval.width >= min(rules.protection_width, reach[cell])
        if cell in result.exposed:
            assert interval.width == reach[cell]  # as much as the published totals allow


@settings(max_examples=20, deadline=None)
@given(tables(), st.sampled_from([5, 10]))
def test_tables_with_no_small_line_come_out_safe(table: Table, threshold: int) -> None:
    """When no row or column total is small and two rows and two columns are large, nothing is exposed."""
    rules = Rules(threshold=threshold)
    lines = (*table.row_totals, *table.column_totals)
    large_rows = sum(total >= threshold for total in table.row_totals)
    large_columns = sum(total >= threshold for total in table.column_totals)
    assume(not any(0 < total < threshold for total in lines) and large_rows >= 2 and large_columns >= 2)
    assert audit(protect(table, rules), rules).safe


def brute_force(published: Published) -> dict[Cell, Interval]:
    """Every whole-number table consistent with what is published, enumerated: the least and greatest of each cell."""
    largest = max(published.bounds(published.grand_total))
    lines: list[list[tuple[int, ...]]] = []
    for i, values in enumerate(published.cells):
        ranges = [
            range(largest + 1) if v is None else range(published.bounds(v)[0], published.bounds(v)[1] + 1)
            for v in values
        ]
        low, high = published.bounds(published.row_totals[i])
        lines.append([line for line in itertools.product(*ranges) if low <= sum(line) <= high])
    found: dict[Cell, list[int]] = {}
    names = published.cell_names
    for rows in itertools.product(*lines):
        column_ok = all(
            published.bounds(total)[0] <= sum(row[j] for row in rows) <= published.bounds(total)[1]
            for j, total in enumerate(published.column_totals)
        )
        grand = sum(map(sum, rows))
        low, high = published.bounds(published.grand_total)
        if not column_ok or not low <= grand <= high:
            continue
        flat = [n for row in rows for n in row]
        for k, cell in enumerate(names):
            if published.state(cell).suppressed:
                seen = found.setdefault(cell, [flat[k], flat[k]])
                seen[0], seen[1] = min(seen[0], flat[k]), max(seen[1], flat[k])
    return {cell: Interval(low, high) for cell, (low, high) in found.items()}


@settings(max_examples=40, deadline=None)
@given(
    tables(most_rows=2, most_columns=3, largest=4),
    st.lists(st.booleans(), min_size=6, max_size=6),
    st.sampled_from([None, 2, 3]),
)
def test_the_linear_programme_finds_exactly_what_whole_numbers_allow(
    table: Table, hidden: list[bool], base: int | None
) -> None:
    changes = {cell: CellState.SECONDARY for cell, hide in zip(table.cells, hidden, strict=False) if hide}
    assume(base is None or len(table.cells) <= 4)  # keep the enumeration small
    published = table.with_states(changes).with_rounding(Rounding(base) if base else None).published()
    assert recover(published) == brute_force(published)


@settings(max_examples=25, deadline=None)
@given(tables(most_rows=4, most_columns=4), st.data())
def test_differencing_intervals_hold_the_truth(table: Table, data: st.DataObject) -> None:
    grown = named([[n + data.draw(st.integers(0, 12)) for n in line] for line in table.counts])
    before, after = protect(table), protect(grown)
    assert check_differencing(before, before) == ()
    for found in check_differencing(before, after):
        if found.kind is DifferenceKind.SUPPRESSED:
            assert isinstance(found.subject, Cell)
            source = before if found.release == "previous" else after
            truth = source.count(found.subject)
            assert found.alone is not None
            assert found.alone.low <= found.interval.low <= found.interval.high <= found.alone.high
        elif isinstance(found.subject, Cell):
            truth = grown.count(found.subject) - table.count(found.subject)
        else:
            axis, name = found.subject
            if axis is Axis.ROW:
                truth = grown.row_total(name) - table.row_total(name)
            elif axis is Axis.COLUMN:
                truth = grown.column_total(name) - table.column_total(name)
            else:
                truth = grown.grand_total - table.grand_total
            assert 0 < truth < 10
        assert found.interval.low <= truth <= found.interval.high
