"""Throw-away PostgreSQL server for the test suite.

The suite runs its integration tests against a real PostgreSQL server that it
starts itself: ``initdb`` into a temporary directory, ``postgres`` on a free
TCP port of 127.0.0.1 (unix sockets stay inside the temporary directory), and
``pg_ctl stop -m fast`` plus removal of the directory at the end.

PostgreSQL refuses to run as root.  When the suite runs as root (CI does), the
server binaries run as an unprivileged system user instead: ``$ZHIFA_PG_USER``
if set, else ``zhifa-pg`` (created with ``useradd --system`` when missing),
else ``nobody``.

Binaries are looked up in ``$ZHIFA_PG_BINDIR``, then ``pg_config --bindir``,
then the highest ``/usr/lib/postgresql/*/bin``.

This module has no third-party imports; pytest fixtures wrap it::

    server = start_postgres()
    try:
        engine = sqlalchemy.create_engine(server.url)
        other_url = server.create_database("zhifa_migrations")
    finally:
        server.stop()
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Self

__all__ = [
    "DEFAULT_DBNAME",
    "PostgresError",
    "PostgresServer",
    "find_bindir",
    "start_postgres",
]

DEFAULT_DBNAME = "zhifa_test"
SUPERUSER = "postgres"
UNPRIVILEGED_USER = "zhifa-pg"
HOST = "127.0.0.1"

# Settings for a disposable, fast test server.  Durability is irrelevant here.
SERVER_SETTINGS = {
    "listen_addresses": HOST,
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "50",
    "jit": "off",
}
# Benchmarks compare with PostgreSQL as shipped: durable commits, default settings.
DURABLE_SETTINGS = {"listen_addresses": HOST, "max_connections": "50"}

_SBIN_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin")
# Longest socket directory that keeps ".s.PGSQL.NNNNN" inside sun_path (108).
_MAX_SOCKET_DIR = 80


class PostgresError(RuntimeError):
    """The test PostgreSQL server could not be set up, started or used."""


def _which(name: str) -> str | None:
    """``shutil.which`` that also looks in the sbin directories."""
    found = shutil.which(name)
    if found:
        return found
    for directory in _SBIN_DIRS:
        candidate = os.path.join(directory, name)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _clean_env() -> dict[str, str]:
    """The environment without libpq/server variables (PGHOST, PGDATA, ...)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _is_bindir(path: str | os.PathLike[str] | None) -> bool:
    return bool(path) and all(
        os.access(os.path.join(path, exe), os.X_OK)
        for exe in ("initdb", "pg_ctl", "postgres")
    )


def find_bindir() -> Path:
    """Directory holding initdb, pg_ctl, postgres, pg_isready and createdb."""
    explicit = os.environ.get("ZHIFA_PG_BINDIR")
    if explicit:
        if not _is_bindir(explicit):
            raise PostgresError(
                f"ZHIFA_PG_BINDIR={explicit} has no initdb/pg_ctl/postgres"
            )
        return Path(explicit)

    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            ).stdout.strip()
            if _is_bindir(out):
                return Path(out)

    def version_key(path: str) -> tuple[int, ...]:
        version = Path(path).parent.name
        return tuple(int(part) for part in re.findall(r"\d+", version)) or (0,)

    for candidate in sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=version_key, reverse=True
    ):
        if _is_bindir(candidate):
            return Path(candidate)

    raise PostgresError(
        "PostgreSQL server binaries not found: set ZHIFA_PG_BINDIR, or install them "
        "(Debian: apt-get install postgresql-15 postgresql-client-15, or `make sysdeps`)"
    )


def _ensure_unprivileged_user() -> pwd.struct_passwd:
    """The account the server runs as when we are root (created if needed)."""
    wanted = os.environ.get("ZHIFA_PG_USER")
    if wanted:
        try:
            return pwd.getpwnam(wanted)
        except KeyError:
            raise PostgresError(f"ZHIFA_PG_USER={wanted}: no such user") from None

    with contextlib.suppress(KeyError):
        return pwd.getpwnam(UNPRIVILEGED_USER)

    useradd = _which("useradd")
    if useradd:
        cmd = [useradd, "--system", "--no-create-home"]
        nologin = _which("nologin")
        if nologin:
            cmd += ["--shell", nologin]
        cmd.append(UNPRIVILEGED_USER)
        for _attempt in range(3):
            # Another test process may be creating the user at the same time,
            # in which case useradd fails (user exists / passwd file locked).
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                subprocess.run(cmd, capture_output=True, timeout=60, check=False)
            with contextlib.suppress(KeyError):
                return pwd.getpwnam(UNPRIVILEGED_USER)
            time.sleep(0.5)

    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        raise PostgresError(
            f"running as root, but could not create user {UNPRIVILEGED_USER!r} and "
            "there is no 'nobody' user; set ZHIFA_PG_USER to an unprivileged account"
        ) from None


def _run_as_prefix(account: pwd.struct_passwd) -> list[str]:
    """Command prefix that runs argv as ``account`` (we are root)."""
    runuser = _which("runuser")
    if runuser:
        return [runuser, "-u", account.pw_name, "--"]
    setpriv = _which("setpriv")
    if setpriv:
        return [
            setpriv,
            f"--reuid={account.pw_uid}",
            f"--regid={account.pw_gid}",
            "--init-groups",
            "--",
        ]
    su = _which("su")
    if su:
        # su runs a shell command; the real argv follows as "$0" "$@".
        return [su, "-s", "/bin/sh", "-c", 'exec "$0" "$@"', "--", account.pw_name]
    raise PostgresError("running as root, but none of runuser, setpriv or su was found")


def _traversable(path: Path, account: pwd.struct_passwd) -> bool:
    """Whether ``account`` can reach files below ``path``."""
    for part in [path, *path.parents]:
        try:
            st = part.stat()
        except OSError:
            return False
        if st.st_uid == account.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid == account.pw_gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def _temp_parent(account: pwd.struct_passwd | None) -> str:
    parent = Path(tempfile.gettempdir())
    too_long = len(str(parent)) > _MAX_SOCKET_DIR - 20
    if too_long or (account is not None and not _traversable(parent, account)):
        return "/tmp"
    return str(parent)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"<no server log: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


class PostgresServer:
    """A running throw-away PostgreSQL server.  Use :func:`start_postgres`."""

    def __init__(
        self,
        bindir: Path | str | None = None,
        dbname: str = DEFAULT_DBNAME,
        startup_timeout: float = 60.0,
        durable: bool = False,
    ) -> None:
        self.settings = DURABLE_SETTINGS if durable else SERVER_SETTINGS
        self.bindir = Path(bindir) if bindir else find_bindir()
        self.dbname = dbname
        self.host = HOST
        self.user = SUPERUSER
        self.port: int | None = None
        self.startup_timeout = startup_timeout

        if os.geteuid() == 0:
            self.os_account: pwd.struct_passwd | None = _ensure_unprivileged_user()
            self._prefix = _run_as_prefix(self.os_account)
        else:
            self.os_account = None
            self._prefix = []

        self.base_dir = Path(
            tempfile.mkdtemp(prefix="zhifa-pg-", dir=_temp_parent(self.os_account))
        )
        self.data_dir = self.base_dir / "data"
        self.socket_dir = self.base_dir
        self.log_path = self.base_dir / "postgres.log"
        self._proc: subprocess.Popen[bytes] | None = None
        atexit.register(self.stop)

    # -- public API -------------------------------------------------------

    @property
    def os_user(self) -> str:
        """The operating-system account the server processes run as."""
        if self.os_account is not None:
            return self.os_account.pw_name
        return pwd.getpwuid(os.geteuid()).pw_name

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``zhifa_test`` database."""
        return self.url_for(self.dbname)

    def url_for(self, dbname: str) -> str:
        """SQLAlchemy (psycopg2) URL of database ``dbname`` on this server."""
        return f"postgresql+psycopg2://{self.user}@{self.host}:{self.port}/{dbname}"

    def dsn(self, dbname: str | None = None) -> str:
        """libpq connection string, e.g. for ``psycopg2.connect``."""
        return f"host={self.host} port={self.port} user={self.user} dbname={dbname or self.dbname}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> PostgresServer:
        """initdb, start the server, wait until ready, create ``zhifa_test``."""
        try:
            self._initdb()
            self._start_server()
            self.create_database(self.dbname)
        except BaseException:
            self.stop()
            raise
        return self

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database ``name`` (optionally from ``template``); return its URL."""
        cmd = [str(self.bindir / "createdb"), *self._client_args()]
        if template:
            cmd += ["--template", template]
        cmd.append(name)
        self._client(cmd, f"createdb {name}")
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, disconnecting its sessions."""
        cmd = [
            str(self.bindir / "dropdb"),
            *self._client_args(),
            "--if-exists",
            "--force",
            name,
        ]
        self._client(cmd, f"dropdb {name}")

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server log."""
        return _tail(self.log_path, lines)

    def stop(self) -> None:
        """Stop the server (``pg_ctl stop -m fast``) and delete its directory."""
        atexit.unregister(self.stop)
        proc, self._proc = self._proc, None
        try:
            if proc is not None:
                self._stop_process(proc)
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<PostgresServer {self.host}:{self.port} {state} dir={self.base_dir}>"

    # -- internals --------------------------------------------------------

    def _as_server_user(self, argv: list[str]) -> list[str]:
        return [*self._prefix, *argv]

    def _server_cmd(self, argv: list[str], what: str, timeout: float) -> str:
        try:
            result = subprocess.run(
                self._as_server_user(argv),
                cwd=self.base_dir,
                env=_clean_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PostgresError(
                f"{what} timed out after {timeout:.0f}s: {exc.output or ''}"
            ) from None
        if result.returncode != 0:
            raise PostgresError(
                f"{what} failed (exit {result.returncode}):\n{result.stdout}"
            )
        return result.stdout

    def _client_args(self) -> list[str]:
        return ["-h", self.host, "-p", str(self.port), "-U", self.user]

    def _client(self, cmd: list[str], what: str) -> None:
        if self.port is None:
            raise PostgresError(f"{what}: server is not started")
        result = subprocess.run(
            cmd,
            env=_clean_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise PostgresError(
                f"{what} failed (exit {result.returncode}): {result.stderr.strip()}"
            )

    def _initdb(self) -> None:
        if self.os_account is not None:
            os.chown(self.base_dir, self.os_account.pw_uid, self.os_account.pw_gid)
            # World-traversable so any local client can reach the socket.
            os.chmod(self.base_dir, 0o755)

        base = [
            str(self.bindir / "initdb"),
            "-D",
            str(self.data_dir),
            "-A",
            "trust",
            "-U",
            self.user,
            "--no-sync",
            "-E",
            "UTF8",
        ]
        errors = []
        for locale in ("C.UTF-8", "C"):
            shutil.rmtree(self.data_dir, ignore_errors=True)
            try:
                self._server_cmd([*base, f"--locale={locale}"], "initdb", timeout=180)
                return
            except PostgresError as exc:
                errors.append(f"--locale={locale}: {exc}")
        raise PostgresError("\n".join(errors))

    def _start_server(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        failures = []
        for _attempt in range(5):
            self.port = _free_port()
            outcome = self._try_start(deadline)
            if outcome == "ready":
                return
            failures.append(f"port {self.port}: {outcome}")
            if outcome != "port in use" or time.monotonic() >= deadline:
                break
        raise PostgresError(
            f"PostgreSQL did not start ({'; '.join(failures)}); "
            f"bindir={self.bindir} dir={self.base_dir}\n"
            f"--- server log tail ---\n{self.log_tail()}"
        )

    def _try_start(self, deadline: float) -> str:
        """Start postgres on ``self.port``; 'ready', 'port in use' or a reason."""
        argv = [
            str(self.bindir / "postgres"),
            "-D",
            str(self.data_dir),
            "-c",
            f"port={self.port}",
        ]
        argv += ["-c", f"unix_socket_directories={self.socket_dir}"]
        for key, value in self.settings.items():
            argv += ["-c", f"{key}={value}"]

        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                self._as_server_user(argv),
                cwd=self.base_dir,
                env=_clean_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C must not kill it behind our back
            )

        # Poll through the unix socket in our own directory: a TCP probe could
        # be answered by another server that grabbed the port meanwhile.
        isready = [
            str(self.bindir / "pg_isready"),
            "-q",
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            self.user,
            "-d",
            "postgres",
            "-t",
            "2",
        ]
        while True:
            code = self._proc.poll()
            if code is not None:
                self._proc = None
                log = self.log_path.read_bytes()[log_offset:].decode("utf-8", "replace")
                if (
                    "could not bind" in log
                    or "could not create any TCP/IP sockets" in log
                ):
                    return "port in use"
                return f"server exited with code {code}"
            ready = subprocess.run(
                isready,
                env=_clean_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=30,
                check=False,
            )
            if ready.returncode == 0:
                return "ready"
            if time.monotonic() >= deadline:
                return f"not ready after {self.startup_timeout:.0f}s (pg_isready exit {ready.returncode})"
            time.sleep(0.1)

    def _stop_process(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            with contextlib.suppress(PostgresError):
                self._server_cmd(
                    [
                        str(self.bindir / "pg_ctl"),
                        "-D",
                        str(self.data_dir),
                        "-m",
                        "fast",
                        "-w",
                        "-t",
                        "60",
                        "stop",
                    ],
                    "pg_ctl stop",
                    timeout=90,
                )
        try:
            proc.wait(timeout=30)
            return
        except subprocess.TimeoutExpired:
            pass
        # pg_ctl failed: immediate shutdown of the postmaster, then the wrapper.
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, signal.SIGQUIT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def start_postgres(
    bindir: Path | str | None = None,
    dbname: str = DEFAULT_DBNAME,
    startup_timeout: float = 60.0,
    durable: bool = False,
) -> PostgresServer:
    """Start a fresh server with database ``dbname``; call ``.stop()`` when done.

    ``durable=True`` keeps PostgreSQL's default durability (fsync, synchronous commit): for benchmarks.
    """
    return PostgresServer(
        bindir=bindir, dbname=dbname, startup_timeout=startup_timeout, durable=durable
    ).start()
