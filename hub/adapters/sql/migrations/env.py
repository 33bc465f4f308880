"""Alembic environment: the hub passes an open connection (config.attributes["connection"]);
the alembic command line uses sqlalchemy.url from alembic.ini or ``-x url=...``."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, create_engine

from hub.adapters.sql.schema import metadata


def _include(obj: Any, name: str | None, type_: str, reflected: bool, _compare: Any) -> bool:
    # The audit tables share the database but not these migrations (audit.schema makes them,
    # with their append-only triggers): autogenerate must not offer to drop them. So a table
    # found in the database counts only if it is one of ours.
    return not (type_ == "table" and reflected and name not in metadata.tables)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, include_object=_include)
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    engine = create_engine(str(url))
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


_main()
