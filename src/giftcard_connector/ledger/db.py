"""Engine, sessions and the write serialization each database needs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def async_database_url(url: str) -> str:
    """Accept plain `postgresql://` and `sqlite:///` URLs and pick the async drivers we ship."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    else:
        raise ValueError(f"unsupported database URL scheme {parsed.drivername!r} (use postgresql or sqlite)")
    return parsed.render_as_string(hide_password=False)


class Database:
    """One engine plus the rule for running a transaction on it.

    PostgreSQL: row locks (`SELECT ... FOR UPDATE`) serialize changes to one card.
    SQLite has no row locks: every transaction starts with `BEGIN IMMEDIATE` (one writer across
    processes, e.g. the CLI beside a running service) and, inside one process, an asyncio lock queues
    writers so they do not spin in SQLite's busy handler.
    """

    def __init__(self, url: str, *, schema: str | None = None, pool_size: int = 20) -> None:
        self.url = async_database_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = pool_size
            if schema:
                kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._lock = asyncio.Lock() if self.is_sqlite else None
        if self.is_sqlite:
            _use_immediate_transactions(self.engine)
        self._schema = schema
        self._pool_size = pool_size
        self._raw: asyncpg.Pool | None = None
        self._raw_opening: asyncio.Lock | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        if self._lock is None:
            async with self.sessions() as session, session.begin():
                yield session
            return
        async with self._lock, self.sessions() as session, session.begin():
            yield session

    async def raw_pool(self) -> asyncpg.Pool:
        """PostgreSQL only: a plain asyncpg pool for the debit hot path, which skips the ORM (its
        per-statement overhead was most of a debit's CPU). Opened on first use, closed by dispose()."""
        if self.is_sqlite:
            raise RuntimeError("the raw pool is for PostgreSQL")
        if self._raw is None:
            if self._raw_opening is None:
                self._raw_opening = asyncio.Lock()
            async with self._raw_opening:
                if self._raw is None:
                    dsn = make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
                    settings = {"search_path": self._schema} if self._schema else None
                    # No idle timeout: asyncpg would arm and cancel a timer on every release. The pool
                    # is bounded (max_size), so keeping idle connections open costs at most that many.
                    self._raw = await asyncpg.create_pool(
                        dsn,
                        min_size=1,
                        max_size=self._pool_size,
                        server_settings=settings,
                        reset=_keep_session,
                        max_inactive_connection_lifetime=0,
                    )
        return self._raw

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def dispose(self) -> None:
        if self._raw is not None:
            await self._raw.close()
            self._raw = None
        await self.engine.dispose()


async def _keep_session(_: asyncpg.Connection) -> None:
    """The raw pool only runs single autocommit statements (no SET, LISTEN, advisory locks or open
    transactions), so there is nothing to reset on release. asyncpg's default reset is one more round
    trip per debit (py-spy: 9 % of the ledger's CPU)."""


def _use_immediate_transactions(engine: AsyncEngine) -> None:
    # pysqlite's own BEGIN is deferred (a reader upgrades to writer later and can deadlock); take the
    # write lock up front instead. Recipe from the SQLAlchemy SQLite dialect documentation.
    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL + synchronous=NORMAL: one fsync per checkpoint instead of several per commit, still
        # durable against a crashed process; readers of other processes are not blocked by the writer.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
