"""The monitor: checks a handover log from outside, trusting nothing the server says.

It reads what the log publishes (C2SP tlog-tiles: the signed checkpoint, hash tiles, entry bundles, plus the server's
current counts and the identity records; over HTTP, entry bundles and identity records need an API token of a
monitor's account) through a `LogSource`, over HTTP or from a directory `handover log export` wrote, and recomputes
everything from the entries with the pure core. Modules:

- `sources`: where the log is read from (`HttpSource` with httpx2, `DirectorySource`), behind one small interface.
- `checks`: the checks themselves, as plain functions; each raises `Discrepancy` naming what is wrong and where.
- `state`: the last checkpoint verified, kept in a local file so a rewritten history is caught on the next run.
- `run`: the steps in order, stopping at the first discrepancy.
- `report_check`: a report release's figures recounted from the log entries at its checkpoint (`--report`).

It imports the core and httpx2 only: never the services, the store, the API or the web layer, so the server's code
cannot vouch for itself.
"""

from handover.monitor.checks import Discrepancy
from handover.monitor.report_check import ReportError
from handover.monitor.run import Outcome, Step, verify_log
from handover.monitor.sources import DirectorySource, HttpSource, LogSource, SourceError, open_source
from handover.monitor.state import StateFileError, VerifiedCheckpoint, default_state_path

__all__ = [
    "DirectorySource",
    "Discrepancy",
    "HttpSource",
    "LogSource",
    "Outcome",
    "ReportError",
    "SourceError",
    "StateFileError",
    "Step",
    "VerifiedCheckpoint",
    "default_state_path",
    "open_source",
    "verify_log",
]
