"""The audit tables and the database triggers that keep them append-only.

Three tables, created by create_audit_schema() (idempotent; the API and the `hub audit`
commands call it at start):
- audit_records: one row per disclosure, chained (audit.chain). UPDATE, DELETE and TRUNCATE
  are refused by triggers.
- audit_checkpoints: signed checkpoints (audit.checkpoint). Same triggers.
- audit_head: one row (id 1): the last record's seq and hash, and the Merkle compact range
  (audit.merkle.CompactRange as hex) so a checkpoint's root costs O(log n) at append time.
  Every append updates it first, which takes SQLite's write lock / PostgreSQL's row lock, so
  concurrent appenders queue and each links to the true previous record. It cannot be
  append-only, so its trigger lets an UPDATE through only if it changes nothing (the lock
  "touch") or moves the head forward by exactly one record to the hash of a record that
  exists; DELETE and TRUNCATE are refused. The compact range cannot be checked by a trigger:
  a doctored one makes the next checkpoint's root disagree with the records, which
  `hub audit verify` reports.

Triggers stop mistakes and casual edits. Someone who can drop them can change anything; the
chain, the Merkle roots and the signed checkpoints are what catch that (audit.verify).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    text,
)

from audit.errors import AuditError

metadata = MetaData()

audit_records = Table(
    "audit_records",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("record_id", String(36), nullable=False, unique=True),
    Column("body", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("frontier", Text, nullable=False),
    CheckConstraint("id = 1", name="ck_audit_head_one_row"),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", String(64), nullable=False),
    Column("chain_head", String(64), nullable=False),
    Column("signed_at", String(40), nullable=False),  # exactly the text that was signed
    Column("key_id", String(16), nullable=False),
    Column("signature", String(128), nullable=False),
)

APPEND_ONLY = ("audit_records", "audit_checkpoints")

_HEAD_MAY_CHANGE = """
    (NEW.id = OLD.id AND NEW.seq = OLD.seq AND NEW.hash = OLD.hash
     AND NEW.frontier = OLD.frontier)
    OR (NEW.id = OLD.id AND NEW.seq = OLD.seq + 1
        AND EXISTS (SELECT 1 FROM audit_records r WHERE r.seq = NEW.seq AND r.hash = NEW.hash))
"""  # EXISTS, not "= (SELECT …)": a missing record must not make the condition NULL
_HEAD_REFUSAL = (
    "audit_head only moves forward one record at a time, to a record that exists; "
    "append through the audit store"
)


def _sqlite_triggers() -> list[str]:
    ddl = []
    for table in APPEND_ONLY:
        for op in ("UPDATE", "DELETE"):
            ddl.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"
            )
    ddl.append(
        "CREATE TRIGGER IF NOT EXISTS audit_head_no_delete BEFORE DELETE ON audit_head "
        "BEGIN SELECT RAISE(ABORT, 'audit_head may not be deleted: DELETE refused'); END"
    )
    ddl.append(
        "CREATE TRIGGER IF NOT EXISTS audit_head_forward_only BEFORE UPDATE ON audit_head "
        f"WHEN NOT ({_HEAD_MAY_CHANGE}) BEGIN SELECT RAISE(ABORT, '{_HEAD_REFUSAL}'); END"
    )
    return ddl


def _postgres_triggers() -> list[str]:
    ddl = [
        # serialise concurrent starts: CREATE OR REPLACE of one function races otherwise
        "SELECT pg_advisory_xact_lock(6962)",
        """CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
           LANGUAGE plpgsql AS $$
           BEGIN
             RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
           END $$""",
        f"""CREATE OR REPLACE FUNCTION audit_head_forward_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'UPDATE' AND ({_HEAD_MAY_CHANGE}) THEN
                RETURN NEW;
              END IF;
              RAISE EXCEPTION '{_HEAD_REFUSAL} (% refused)', TG_OP;
            END $$""",
        "CREATE OR REPLACE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE "
        "ON audit_head FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only()",
    ]
    for table in (*APPEND_ONLY, "audit_head"):
        if table != "audit_head":
            ddl.append(
                f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE "
                f"ON {table} FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()"
            )
        ddl.append(
            f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
        )
    return ddl


def create_audit_schema(engine: Engine) -> None:
    """Create the audit tables and their triggers if missing (safe to run at every start)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            ddl = _postgres_triggers()
            conn.execute(text(ddl[0]))
            ddl = ddl[1:]
        else:
            ddl = _sqlite_triggers()
        metadata.create_all(conn)
        _refuse_old_format(conn)
        for statement in ddl:
            conn.execute(text(statement))


def _refuse_old_format(conn: Connection) -> None:
    columns = {c["name"] for c in inspect(conn).get_columns("audit_head")}
    if "frontier" not in columns:
        raise AuditError(
            "the audit tables in this database predate Merkle checkpoints and cannot be "
            "upgraded in place: keep the old database as the record of that period and "
            "point the hub at a new one (HUB_DATA_DIR or HUB_DATABASE_URL)"
        )
