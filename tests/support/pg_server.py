"""A throwaway PostgreSQL server for tests, started from the machine's own binaries.

    with PostgresServer() as pg:
        engine = create_engine(pg.url)

Each server lives in its own temporary directory (data, socket and log) on a free
port of 127.0.0.1, and is thrown away on exit. Durability is switched off: the data
never outlives the test run, and fsync would dominate the run time.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

DATABASE = "handover"
SUPERUSER = "postgres"


def find_bindir() -> Path:
    """The directory holding initdb/pg_ctl: pg_config's answer, else the newest Debian one."""
    candidates: list[Path] = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    # On Debian pg_config may come from libpq-dev alone, so also look at the server packages.
    debian = glob.glob("/usr/lib/postgresql/*/bin")
    debian.sort(key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0, reverse=True)
    candidates += [Path(p) for p in debian]
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found via `pg_config --bindir` or under "
        "/usr/lib/postgresql/*/bin. Install them with `make system-deps` (Debian package `postgresql`)."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _locale() -> str:
    # C.UTF-8 gives proper case folding of non-ASCII text; plain C works everywhere.
    out = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False)
    available = {name.lower().replace("-", "") for name in out.stdout.split()}
    return "C.UTF-8" if "c.utf8" in available else "C"


class PostgresServer:
    def __init__(self) -> None:
        self.bindir = find_bindir()
        self.port = 0
        self._root: Path | None = None
        self._started = False
        # PostgreSQL refuses to run as root, so as root every command runs as `postgres`.
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            if not shutil.which("runuser"):
                raise RuntimeError("running as root, but `runuser` is missing to run PostgreSQL as postgres")
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError(
                    "running as root, but there is no `postgres` user to run PostgreSQL as "
                    "(the Debian package `postgresql` creates it)"
                ) from None
            self._as_user = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return self._url(DATABASE)

    def _url(self, name: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str) -> str:
        """Create another database on this server and return its SQLAlchemy URL."""
        self._run("createdb", "-h", str(self._socket_dir), "-p", str(self.port), "-U", SUPERUSER, name)
        return self._url(name)

    def __enter__(self) -> PostgresServer:
        try:
            self._start()
        except BaseException:
            self._cleanup()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._cleanup()

    @property
    def _data_dir(self) -> Path:
        assert self._root is not None
        return self._root / "data"

    @property
    def _socket_dir(self) -> Path:
        # Kept inside our own directory so we never need write access to /run/postgresql.
        assert self._root is not None
        return self._root / "socket"

    def _start(self) -> None:
        self._root = Path(tempfile.mkdtemp(prefix="handover-pg-"))
        self._socket_dir.mkdir()
        if self._as_user:
            user = pwd.getpwnam("postgres")
            for path in (self._root, self._socket_dir):
                os.chown(path, user.pw_uid, user.pw_gid)

        self._run(
            "initdb", "-D", str(self._data_dir), "-A", "trust", "-U", SUPERUSER,
            "--encoding=UTF8", f"--locale={_locale()}",
        )  # fmt: skip
        # The free port is only free until someone else takes it: retry on a clash.
        for attempt in range(3):
            self.port = _free_port()
            options = (
                f"-p {self.port} -k {self._socket_dir} -c listen_addresses=127.0.0.1"
                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                self._run(
                    "pg_ctl", "-w", "-D", str(self._data_dir), "-l", str(self._root / "server.log"),
                    "-o", options, "start",
                )  # fmt: skip
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        self._started = True
        self.create_database(DATABASE)

    def _cleanup(self) -> None:
        if self._started:
            # Immediate: nothing needs to survive, so skip the checkpoint of a clean shutdown.
            self._run("pg_ctl", "-D", str(self._data_dir), "-m", "immediate", "-w", "stop")
            self._started = False
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def _run(self, program: str, *args: str) -> None:
        command = [*self._as_user, str(self.bindir / program), *args]
        # cwd: the postgres user may not be allowed into the caller's directory (e.g. /root).
        result = subprocess.run(command, cwd=self._root, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = ""
            if self._root is not None and (self._root / "server.log").exists():
                log = "\nserver log:\n" + (self._root / "server.log").read_text(errors="replace")[-4000:]
            raise RuntimeError(
                f"{' '.join(command)} failed with exit code {result.returncode}:\n{result.stdout}{result.stderr}{log}"
            )
