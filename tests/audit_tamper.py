"""What an attacker with write access to the database does first: drop the audit triggers.

Used by the audit tests to prove that the chain, the Merkle roots and the signed checkpoints
still catch tampering once the database no longer refuses it.
"""

from __future__ import annotations

from sqlalchemy import Connection, text


def drop_audit_triggers(conn: Connection) -> list[str]:
    """Drop every trigger on the audit tables; returns their names."""
    if conn.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'audit_%'"
        names = conn.execute(text(query)).scalars().all()
        for name in names:
            conn.execute(text(f'DROP TRIGGER "{name}"'))
        return list(names)
    rows = conn.execute(
        text(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relname LIKE 'audit_%' "
            "AND c.relnamespace = current_schema()::regnamespace"
        )
    ).all()
    for name, table in rows:
        conn.execute(text(f'DROP TRIGGER "{name}" ON "{table}"'))
    return [name for name, _table in rows]
