"""Alembic environment: models' metadata, per-migration transactions, timeouts on PostgreSQL."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from engine.models import Base, UTCDateTime
from engine.publicity.models import schema_filter

config = context.config
target_metadata = Base.metadata


def render_item(type_, obj, autogen_context):  # type: ignore[no-untyped-def]
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    engine = create_engine(url, poolclass=pool.NullPool)
    is_sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET lock_timeout = '5s'")
            connection.exec_driver_sql("SET statement_timeout = '60s'")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            compare_server_default=True,
            transaction_per_migration=True,
            render_as_batch=is_sqlite,
            render_item=render_item,
            include_object=schema_filter(engine.dialect.name),
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `zhifa db upgrade`")
run_migrations_online()
