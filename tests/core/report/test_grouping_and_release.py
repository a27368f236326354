"""Merging small categories, building a release, and reading its document back."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handover.core.report import disclosure, grouping, release
from handover.core.report.disclosure import Rules
from handover.core.report.figures import AWAITING, COUNTS, HELD, MOVED_BY_WEEK, Figures, RawTable
from handover.core.report.grouping import ALL, OTHER, merge_small
from handover.core.report.release import CheckpointRef, MalformedRelease, ReleaseRefused
from handover.core.report.tables import Rounding

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
CHECKPOINT = CheckpointRef(
    "example.org/log", 120, bytes(range(32)), "example.org/log\n120\nAAAA\n\n— example.org/log sig\n"
)

totals_maps = st.dictionaries(st.sampled_from("abcdefgh"), st.integers(0, 40), min_size=1)


@settings(max_examples=300, deadline=None)
@given(totals_maps, st.integers(2, 15), st.booleans())
def test_merged_groups_partition_the_keys_and_none_is_small(
    totals: dict[str, int], threshold: int, ordered: bool
) -> None:
    keys = sorted(totals)
    groups = merge_small(keys, totals, threshold, ordered=ordered)

    members = [member for group in groups for member in group.members]
    assert sorted(members) == keys
    sums = [sum(totals[m] for m in group.members) for group in groups]
    if len(groups) > 1:
        assert all(total == 0 or total >= threshold for total in sums)
    if ordered:
        assert members == keys  # merged weeks stay runs of consecutive weeks
        for group in groups:
            if group.merged and group.key != ALL:
                assert group.key == f"{group.members[0]}..{group.members[-1]}"
    if not any(0 < totals[key] < threshold for key in keys):
        assert all(not group.merged for group in groups)


def test_small_weeks_join_the_next_one_and_small_places_become_other() -> None:
    weeks = merge_small(("W1", "W2", "W3", "W4"), {"W1": 30, "W2": 4, "W3": 8, "W4": 50}, 10, ordered=True)
    assert [(g.key, g.members) for g in weeks] == [("W1", ("W1",)), ("W2..W3", ("W2", "W3")), ("W4", ("W4",))]
    places = merge_small(("a", "b", "c", "d"), {"a": 3, "b": 40, "c": 12, "d": 7}, 10, ordered=False)
    assert [(g.key, g.members) for g in places] == [("b", ("b",)), ("c", ("c",)), (OTHER, ("a", "d"))]
    # Still small after merging: the smallest line left joins the others.
    places = merge_small(("a", "b", "c"), {"a": 3, "b": 40, "c": 12}, 10, ordered=False)
    assert [(g.key, g.members) for g in places] == [("b", ("b",)), (OTHER, ("a", "c"))]


raw_tables = st.builds(
    lambda rows, columns, values: RawTable(
        "held_by_facility_and_estate",
        "facility",
        "estate",
        tuple(f"r{i}" for i in range(rows)),
        tuple(f"c{j}" for j in range(columns)),
        {(f"r{i}", f"c{j}"): values[(i * columns + j) % len(values)] for i in range(rows) for j in range(columns)},
        cumulative=False,
    ),
    st.integers(1, 5),
    st.integers(1, 4),
    st.lists(st.sampled_from([0, 0, 1, 2, 3, 5, 8, 9, 10, 11, 14, 25, 60]), min_size=1, max_size=20),
)


def _figures(*tables: RawTable) -> Figures:
    return Figures({name: 0 for name in COUNTS}, tables, NOW)


@settings(max_examples=120, deadline=None)
@given(raw_tables, st.sampled_from([None, 5]))
def test_a_release_never_publishes_a_small_figure_or_a_recoverable_cell(raw: RawTable, rounding: int | None) -> None:
    rules = Rules(threshold=10, rounding=rounding)
    made = release.build(
        _figures(raw), number=1, published_at=NOW, operation="test", checkpoint=CHECKPOINT, rules=rules
    )
    [table] = made.tables
    published = table.published
    result = disclosure.audit(published, rules)
    assert not result.recovered and not result.exposed
    if published.rows != (ALL,):
        for line in (*published.cells, published.row_totals, published.column_totals):
            for figure in line:
                # A shown figure under the threshold (but not zero) would single its people out; rounded figures
                # below the threshold may only be zero.
                assert figure is None or figure == 0 or figure >= 10
    assert published.grand_total == (Rounding(rounding).round(raw.total) if rounding else raw.total)
    assert release.from_json(release.to_json(made)) == made
    assert release.to_json(release.from_json(release.to_json(made))) == release.to_json(made)


def test_a_small_table_is_published_as_its_total_alone() -> None:
    raw = RawTable(
        "repatriated_by_country_and_estate",
        "authority",
        "estate",
        ("kz-gov",),
        ("adult_men", "minors"),
        {("kz-gov", "adult_men"): 3, ("kz-gov", "minors"): 1},
        cumulative=True,
    )
    made = release.build(_figures(raw), number=1, published_at=NOW, operation="t", checkpoint=CHECKPOINT)
    [table] = made.tables
    assert table.published.cells == ((4,),)
    assert [c.members for c in table.columns] == [("adult_men", "minors")]


def _weekly(counts: dict[tuple[str, str], int]) -> RawTable:
    rows = tuple(sorted({row for row, _ in counts}))
    return RawTable(MOVED_BY_WEEK, "week", "destination", rows, ("karkh", "al-hout"), counts, cumulative=True)


def test_a_release_whose_change_from_the_last_is_a_small_group_is_refused() -> None:
    before = _figures(_weekly({("W1", "karkh"): 40, ("W1", "al-hout"): 30, ("W2", "karkh"): 25, ("W2", "al-hout"): 20}))
    first = release.build(before, number=1, published_at=NOW, operation="t", checkpoint=CHECKPOINT)
    # Three more people recorded as moved in week 1, at Karkh: shown as 40 then 43.
    after = _figures(_weekly({("W1", "karkh"): 43, ("W1", "al-hout"): 30, ("W2", "karkh"): 25, ("W2", "al-hout"): 20}))

    with pytest.raises(ReleaseRefused) as refused:
        release.build(after, number=2, published_at=NOW, operation="t", checkpoint=CHECKPOINT, previous=(first, before))

    assert any("W1" in finding and "small group" in finding for finding in refused.value.findings)
    # A large change is fine, and the new release names the one it was checked against.
    grown = _figures(_weekly({("W1", "karkh"): 40, ("W1", "al-hout"): 30, ("W2", "karkh"): 45, ("W2", "al-hout"): 40}))
    second = release.build(
        grown, number=2, published_at=NOW, operation="t", checkpoint=CHECKPOINT, previous=(first, before)
    )
    assert second.previous_release == 1


def test_labels_name_categories_and_merged_ones_say_what_they_hold() -> None:
    counts = {("W1", "karkh"): 40, ("W1", "al-hout"): 30, ("W1", "jeddah"): 3, ("W2", "kharab"): 8}
    raw = RawTable(
        MOVED_BY_WEEK,
        "week",
        "destination",
        ("W1", "W2"),
        ("karkh", "al-hout", "jeddah", "kharab"),
        counts,
        cumulative=True,
    )
    labels = {"destination": {"karkh": "Karkh prison", "al-hout": "al-Hout prison", "jeddah": "Jeddah-1"}}
    made = release.build(_figures(raw), number=1, published_at=NOW, operation="t", checkpoint=CHECKPOINT, labels=labels)
    [table] = made.tables
    assert [(c.key, c.label, c.members) for c in table.columns] == [
        ("karkh", "Karkh prison", ("karkh",)),
        ("al-hout", "al-Hout prison", ("al-hout",)),
        (OTHER, "other: Jeddah-1, kharab", ("jeddah", "kharab")),  # a key without a label stands for itself
    ]


def _document() -> dict:  # type: ignore[type-arg]
    raw = _weekly({("W1", "karkh"): 40, ("W1", "al-hout"): 3, ("W2", "karkh"): 25, ("W2", "al-hout"): 12})
    made = release.build(_figures(raw), number=1, published_at=NOW, operation="t", checkpoint=CHECKPOINT)
    return json.loads(release.to_json(made))


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda d: d.pop("checkpoint"), "checkpoint: missing"),
        (lambda d: d.update(format="something/2"), "format"),
        (lambda d: d["checkpoint"].update(size="120"), "checkpoint.size: expected a whole number"),
        (lambda d: d["tables"][0].update(states=[["shown", "shown"], ["shown", "shown"]]), "tables[0]"),
        (lambda d: d["tables"][0]["rows"][0].update(members=[]), "tables[0].rows.members"),
        (lambda d: d["counts"][0].update(value=True), "counts[0].value"),
        (lambda d: d["checkpoint"].update(root="not base64!"), "base64"),
    ],
)
def test_a_malformed_document_is_refused_naming_the_field(edit, named: str) -> None:  # type: ignore[no-untyped-def]
    document = _document()
    edit(document)
    with pytest.raises(MalformedRelease, match=named.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        release.from_json(json.dumps(document))


def _stock(name: str, counts: list[list[int]]) -> RawTable:
    rows, columns = ("f1", "f2"), ("adult_men", "adult_women")
    cells = {(r, c): counts[i][j] for i, r in enumerate(rows) for j, c in enumerate(columns)}
    return RawTable(name, "facility", "estate", rows, columns, cells, cumulative=False)


def test_linked_tables_are_protected_together() -> None:
    """People awaiting safeguards are among the people held: protected alone, the awaiting table's cell (f1, men)
    lies in [0, 20]; with the held cells shown (12 and 16) it is pinned to [4, 12], and must not be."""
    awaiting = _stock(AWAITING, [[5, 15], [15, 5]])
    held = _stock(HELD, [[12, 16], [16, 12]])
    alone = [disclosure.protect(grouping.grouped(raw, 10)[0]) for raw in (awaiting, held)]
    links = release.linked_cells([(raw.name, *grouping.grouped(raw, 10)[1:]) for raw in (awaiting, held)])
    assert not disclosure.audit_linked(alone, links)[0].safe  # what the link gives an attacker

    made = release.build(_figures(awaiting, held), number=1, published_at=NOW, operation="t", checkpoint=CHECKPOINT)

    published = [table.published for table in made.tables]
    assert all(result.safe for result in disclosure.audit_linked(published, links))
    assert made.table(HELD).published.suppressed  # some held cells had to go too


stocks = st.lists(st.lists(st.integers(0, 30), min_size=2, max_size=2), min_size=2, max_size=2)


@settings(max_examples=60, deadline=None)
@given(stocks, stocks)
def test_any_linked_pair_is_released_safe_or_refused(held_counts: list[list[int]], share: list[list[int]]) -> None:
    awaiting_counts = [
        [min(h, s) for h, s in zip(hr, sr, strict=True)] for hr, sr in zip(held_counts, share, strict=True)
    ]
    awaiting, held = _stock(AWAITING, awaiting_counts), _stock(HELD, held_counts)
    try:
        made = release.build(_figures(awaiting, held), number=1, published_at=NOW, operation="t", checkpoint=CHECKPOINT)
    except ReleaseRefused:
        return  # refusing is safe; publishing something recoverable is not
    links = release.linked_cells(
        [
            (
                t.name,
                [grouping.Group(c.key, c.members) for c in t.rows],
                [grouping.Group(c.key, c.members) for c in t.columns],
            )
            for t in made.tables
        ]
    )
    assert all(result.safe for result in disclosure.audit_linked([t.published for t in made.tables], links))
