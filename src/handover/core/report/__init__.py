"""The public report's disclosure control: published tables that single no one out.

Pure: no database, web, CLI or I/O. A report service counts people from the log at a checkpoint into `tables.Table`s
and calls, in order:

    from handover.core.report import disclosure, tables

    table = tables.Table(rows=("IQ", "FR"), columns=("men", "women"), counts=((120, 3), (14, 0)))
    rules = disclosure.Rules(threshold=10, rounding=None)          # protection defaults to the threshold
    protected = disclosure.protect(table, rules)                   # primary, then secondary suppression
    result = disclosure.audit(protected, rules)                    # result.recovered == () always after protect
    result.exposed                                                 # cells the totals alone pin: merge categories
    published = protected.published()                              # what goes out: None where suppressed
    disclosure.check_differencing(last_release, protected, rules)  # () or what the two give away together

Modules:

- `tables`: the typed model of a table (true counts and cell states) and of what is published from it.
- `disclosure`: the rules (primary suppression, zeros, rounding, secondary suppression), the recovery attack by
  linear programming (HiGHS), and the check of successive releases against each other.
"""
