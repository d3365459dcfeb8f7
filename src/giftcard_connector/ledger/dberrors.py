"""Which failures below the service are a database outage (503) and which the request caused (400).

Only a failure to reach or keep the database is an outage: the Processor treats a 503 from its provider
as "try again later", so bad input (a NUL byte, a number out of range, text that is not Unicode) must not
look like downtime. Anything else is a bug and stays a 500.
"""

from __future__ import annotations

from enum import Enum

from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError

# PostgreSQL SQLSTATE classes (Appendix A of its manual).
_OUTAGE_CLASSES = ("08", "53", "57")  # connection exception, insufficient resources, operator intervention
_TRANSIENT_STATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock: try again
_INPUT_CLASS = "22"  # data exception: invalid byte (NUL), numeric out of range, bad text representation
# SQLite primary result codes (sqlite.org/rescode.html): the file cannot be used right now.
_SQLITE_OUTAGE = frozenset({5, 6, 7, 8, 10, 11, 13, 14, 15, 26})  # BUSY LOCKED NOMEM READONLY IOERR CORRUPT FULL ...
_SQLITE_INPUT = frozenset({18, 20, 25})  # TOOBIG, MISMATCH, RANGE


class Cause(Enum):
    OUTAGE = "outage"
    INPUT = "input"
    BUG = "bug"


def sqlstate(error: DBAPIError) -> str | None:
    """The SQLSTATE of a PostgreSQL driver error (asyncpg: `sqlstate`, psycopg: `pgcode`)."""
    original = error.orig
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    return state if isinstance(state, str) else None


def classify(error: BaseException) -> Cause:
    if isinstance(error, UnicodeError | OverflowError):
        # Lone surrogates from JSON text; an integer or date beyond what the driver can store.
        return Cause.INPUT
    if isinstance(error, OSError):  # refused, reset, timed out (TimeoutError is an OSError)
        return Cause.OUTAGE
    if not isinstance(error, DBAPIError):
        return Cause.BUG
    if error.connection_invalidated:
        return Cause.OUTAGE
    state = sqlstate(error)
    if state is not None:
        if state.startswith(_INPUT_CLASS):
            return Cause.INPUT
        if state.startswith(_OUTAGE_CLASSES) or state in _TRANSIENT_STATES:
            return Cause.OUTAGE
        return Cause.BUG
    sqlite_code = getattr(error.orig, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        primary = sqlite_code & 0xFF
        if primary in _SQLITE_OUTAGE:
            return Cause.OUTAGE
        return Cause.INPUT if primary in _SQLITE_INPUT else Cause.BUG
    if isinstance(error, DataError):
        return Cause.INPUT
    if isinstance(error.orig, OSError) or isinstance(error, OperationalError | InterfaceError):
        # No SQLSTATE: SQLite's locked or unreadable database file, a closed driver connection.
        return Cause.OUTAGE
    return Cause.BUG
