"""The arena's result store: an embedded SQLite database, one row per game.

Every game is written in its own transaction, so an arena killed outright
(SIGKILL, power cut) loses at most the game in flight and never leaves half a
row; on the next run the arena skips the keys already stored and resumes.

Durability: the database runs in WAL journal mode with ``synchronous=NORMAL``,
which is safe against a killed process (SIGKILL included: a committed game is in
the operating system's hands). Only an operating-system crash or a power cut can
lose the last few games, which the next run simply plays again. ``FULL`` would
guard against that too, but costs an fsync per game: 0.54 ms against 0.12 ms
per write here, several percent of a short game.

Schema (version :data:`SCHEMA_VERSION`, kept in ``PRAGMA user_version``)::

    CREATE TABLE games (
        key          TEXT PRIMARY KEY,   -- matchup id + "/" + seed, computed by the arena
        matchup      TEXT NOT NULL,      -- matchup id
        problem      TEXT,               -- problem spec
        algorithm    TEXT,               -- algorithm spec
        adversary    TEXT,               -- adversary spec
        threat       TEXT,               -- threat model name
        seed         INTEGER,
        status       TEXT NOT NULL CHECK (status IN ('ok', 'error', 'timeout')),
        error        TEXT,               -- message of an error/timeout row, NULL for ok
        result       TEXT,               -- GameResult JSON of an ok row, NULL otherwise
        failed       INTEGER,            -- 0/1 for ok rows (the result's ``failed``), NULL otherwise
        task_seconds REAL,               -- the arena's wall time for the whole task, may be NULL
        created      REAL NOT NULL,      -- unix time the row was written
        CHECK ((status = 'ok') = (result IS NOT NULL)),
        CHECK ((status = 'ok') = (failed IS NOT NULL)),
        CHECK (failed IS NULL OR failed IN (0, 1))
    )

A store written by a newer wbstream (a larger ``user_version``) is refused
untouched, as is a database whose layout this version does not know, and one
that fails SQLite's ``PRAGMA quick_check`` (run on every open, before any write).

>>> import tempfile
>>> from pathlib import Path
>>> from wbstream.engine.result import GameResult
>>> tmp = tempfile.TemporaryDirectory()
>>> r = GameResult(problem="f2(n=4)", algorithm="exact", adversary="dense", threat="oblivious", seed=1)
>>> with ResultStore(Path(tmp.name) / "results.sqlite") as store:
...     store.add("m1/1", matchup="m1", problem="f2(n=4)", algorithm="exact", adversary="dense",
...               threat="oblivious", seed=1, status="ok", result=r, task_seconds=0.5)
...     store.add("m1/2", matchup="m1", problem="f2(n=4)", algorithm="exact", adversary="dense",
...               threat="oblivious", seed=2, status="error", error="ValueError: boom", if_absent=True)
...     store.add("m1/2", matchup="m1", problem="f2(n=4)", algorithm="exact", adversary="dense",
...               threat="oblivious", seed=2, status="error", error="stored already", if_absent=True)
...     store.count(), sorted(store.keys()), "m1/1" in store, store.results() == [r]
True
True
False
(2, ['m1/1', 'm1/2'], True, True)
>>> with ResultStore(Path(tmp.name) / "results.sqlite") as store:
...     [row["status"] for row in store.rows()], store.rows("error")[0]["error"], store.integrity_ok()
(['ok', 'error'], 'ValueError: boom', True)
>>> tmp.cleanup()
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from wbstream.engine.errors import WbstreamError
from wbstream.engine.result import GameResult

#: The layout version this code writes and reads (``PRAGMA user_version``).
SCHEMA_VERSION = 1

STATUSES = ("ok", "error", "timeout")

_SCHEMA = """
CREATE TABLE games (
    key          TEXT PRIMARY KEY,
    matchup      TEXT NOT NULL,
    problem      TEXT,
    algorithm    TEXT,
    adversary    TEXT,
    threat       TEXT,
    seed         INTEGER,
    status       TEXT NOT NULL CHECK (status IN ('ok', 'error', 'timeout')),
    error        TEXT,
    result       TEXT,
    failed       INTEGER,
    task_seconds REAL,
    created      REAL NOT NULL,
    CHECK ((status = 'ok') = (result IS NOT NULL)),
    CHECK ((status = 'ok') = (failed IS NOT NULL)),
    CHECK (failed IS NULL OR failed IN (0, 1))
)
"""

COLUMNS = ("key", "matchup", "problem", "algorithm", "adversary", "threat", "seed", "status", "error",
           "result", "failed", "task_seconds", "created")


class StoreError(WbstreamError):
    """The result store cannot be opened or written as asked (the message says why)."""


class ResultStore:
    """One SQLite file of game rows; see the module docstring for the schema and an example."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the directory of the result store {self.path}: "
                             f"{exc.strerror or exc}") from None
        if self.path.exists() and not self.path.is_file():
            raise StoreError(f"result store {self.path} exists but is not a file")
        try:
            conn = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the result store {self.path}: {exc}") from None
        try:
            self._open(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    # -- opening -----------------------------------------------------------------------------

    def _open(self, conn: sqlite3.Connection) -> None:
        where = f"result store {self.path}"
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{where} is not a readable SQLite database: {exc}") from None
        self._check_version(version)
        self._check_integrity(conn)
        try:
            if version == 0:
                # A fresh file: create the schema, unless something else already lives here.
                conn.execute("BEGIN IMMEDIATE")
                try:
                    version = conn.execute("PRAGMA user_version").fetchone()[0]
                    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
                    if version == 0:
                        if tables:
                            raise StoreError(f"{where} holds tables {tables} but no wbstream schema version; "
                                             f"it is not a wbstream result store (refusing to touch it)")
                        conn.execute(_SCHEMA)
                        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                self._check_version(version or SCHEMA_VERSION)
            self._check_layout(conn)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"cannot write the {where} (is its directory writable?): {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{where} is damaged or not a database: {exc}") from None

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(f"result store {self.path} has schema version {version}, newer than the "
                             f"version {SCHEMA_VERSION} this wbstream understands; upgrade wbstream to read it "
                             f"(the store was left unchanged)")
        if 0 < version < SCHEMA_VERSION:
            raise StoreError(f"result store {self.path} has the older schema version {version}; this wbstream "
                             f"reads version {SCHEMA_VERSION} only (the store was left unchanged)")

    def _check_integrity(self, conn: sqlite3.Connection) -> None:
        """``PRAGMA quick_check`` before anything is written: a damaged store is refused untouched."""
        try:
            problems = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
        except sqlite3.DatabaseError as exc:
            problems = [str(exc)]
        if problems != ["ok"]:
            raise StoreError(f"result store {self.path} is damaged: SQLite's integrity check reports "
                             f"{problems[0]!r}" + (f" and {len(problems) - 1} more problem(s)" if len(problems) > 1
                                                   else "")
                             + "; it was left unchanged (restore it from a backup, or move it aside to start afresh)")

    def _check_layout(self, conn: sqlite3.Connection) -> None:
        columns = tuple(r[1] for r in conn.execute("PRAGMA table_info(games)"))
        if columns != COLUMNS:
            raise StoreError(f"result store {self.path} does not have the expected layout: table 'games' has "
                             f"columns {list(columns) or 'none (no such table)'}, expected {list(COLUMNS)} "
                             f"(the store was left unchanged)")

    # -- lifetime ----------------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"result store {self.path} is closed")
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResultStore({str(self.path)!r})"

    # -- writing -----------------------------------------------------------------------------

    def add(self, key: str, *, matchup: str, problem: str | None, algorithm: str | None, adversary: str | None,
            threat: str | None, seed: int | None, status: str, result: GameResult | None = None,
            error: str | None = None, task_seconds: float | None = None, if_absent: bool = False) -> bool:
        """Store one game in one transaction; True if it was written.

        An existing key is never overwritten: it is refused (StoreError), or with
        ``if_absent`` left as it is (False is returned).
        """
        if status not in STATUSES:
            raise StoreError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        if status == "ok":
            if not isinstance(result, GameResult):
                raise StoreError(f"an 'ok' row needs its GameResult (key {key!r})")
            if error is not None:
                raise StoreError(f"an 'ok' row has no error message (key {key!r})")
            result_json, failed = result.to_json(), int(bool(result.failed))
        else:
            if result is not None:
                raise StoreError(f"a {status!r} row has no GameResult (key {key!r})")
            result_json, failed = None, None
            error = error if error is not None else status
        row = (key, matchup, problem, algorithm, adversary, threat, seed, status, error, result_json, failed,
               task_seconds, time.time())
        with self._lock:
            conn = self.conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    written = conn.execute(
                        f"INSERT INTO games ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
                        + (" ON CONFLICT (key) DO NOTHING" if if_absent else ""), row).rowcount
                    conn.execute("COMMIT")
                    return written == 1
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            except sqlite3.IntegrityError as exc:
                if "UNIQUE" in str(exc) or "PRIMARY KEY" in str(exc):
                    raise StoreError(f"result store {self.path} already holds game {key!r}; "
                                     f"rows are never overwritten") from None
                raise StoreError(f"row {key!r} refused by the store: {exc}") from None
            except sqlite3.Error as exc:
                raise StoreError(f"cannot write game {key!r} to the result store {self.path}: {exc}") from None

    # -- reading -----------------------------------------------------------------------------

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self.conn.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read the result store {self.path}: {exc}") from None

    def keys(self) -> set[str]:
        return {r[0] for r in self._query("SELECT key FROM games")}

    def __contains__(self, key: object) -> bool:
        return bool(self._query("SELECT 1 FROM games WHERE key = ?", (key,)))

    def count(self) -> int:
        return self._query("SELECT COUNT(*) FROM games")[0][0]

    def __len__(self) -> int:
        return self.count()

    def rows(self, status: str | None = None) -> list[dict]:
        """Rows in the order written, as dicts; ``result`` is a GameResult for ok rows, else None."""
        sql = f"SELECT {', '.join(COLUMNS)} FROM games"
        args: tuple = ()
        if status is not None:
            if status not in STATUSES:
                raise StoreError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
            sql += " WHERE status = ?"
            args = (status,)
        out = []
        for values in self._query(sql + " ORDER BY rowid", args):
            row = dict(zip(COLUMNS, values))
            if row["result"] is not None:
                try:
                    row["result"] = GameResult.from_json(row["result"])
                except ValueError as exc:
                    raise StoreError(f"game {row['key']!r} in {self.path} has an unreadable result: {exc}") from None
            if row["failed"] is not None:
                row["failed"] = bool(row["failed"])
            out.append(row)
        return out

    def results(self) -> list[GameResult]:
        """The GameResults of the ok rows, in the order written."""
        return [row["result"] for row in self.rows("ok")]

    def integrity_ok(self) -> bool:
        """SQLite's ``PRAGMA integrity_check`` reports no problem."""
        try:
            rows = self._query("PRAGMA integrity_check")
        except StoreError:
            return False
        return [tuple(r) for r in rows] == [("ok",)]
