"""Persistence: SQLAlchemy 2 (async) models and Alembic migrations, one code path for SQLite and PostgreSQL."""
