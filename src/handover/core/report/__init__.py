"""The public report: figures counted from the log, published so that they single no one out.

Pure: no database, web, CLI or I/O. `release.build(figures.count(events, attributes), ...)` does all of it; the
steps underneath, for one table:

    from handover.core.report import disclosure, tables

    table = tables.Table(rows=("IQ", "FR"), columns=("men", "women"), counts=((120, 3), (14, 0)))
    rules = disclosure.Rules(threshold=10, rounding=None)          # protection defaults to the threshold
    protected = disclosure.protect(table, rules)                   # primary, then secondary suppression
    result = disclosure.audit(protected, rules)                    # result.recovered == () always after protect
    result.exposed                                                 # cells the totals alone pin: merge categories
    published = protected.published()                              # what goes out: None where suppressed
    disclosure.check_differencing(last_release, protected, rules)  # () or what the two give away together

Modules:

- `figures`: the report's figures counted from custody events in log order (the publisher and `handover verify
  --report` both count with it).
- `grouping`: small categories merged, so that no published total singles anyone out.
- `tables`: the typed model of a table (true counts and cell states) and of what is published from it.
- `disclosure`: the rules (primary suppression, zeros, rounding, secondary suppression), the recovery attack by
  linear programming (HiGHS) on one table or on tables that share people, and the check of successive releases.
- `release`: a release (figures merged, protected, audited, checked against the last release) and its JSON
  document.
"""
