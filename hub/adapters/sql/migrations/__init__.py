"""Alembic migrations of the hub's tables (not the audit tables: audit.schema keeps those).

Applied at every start by hub.adapters.sql.db.create_schema and by `hub db upgrade`. A new
revision: `alembic -c hub/adapters/sql/migrations/alembic.ini revision -m "what changes"`.
"""
