"""Alembic environment: run against the connection the desk passes in (``config.attributes``)."""

from alembic import context
from sqlalchemy import create_engine

from xlbudget.desk.db import Base

target_metadata = Base.metadata


def run() -> None:
    conn = context.config.attributes.get("connection")
    if conn is None:  # the alembic command line: sqlalchemy.url from the configuration
        engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
        with engine.begin() as c:
            context.configure(connection=c, target_metadata=target_metadata)
            context.run_migrations()
        return
    context.configure(connection=conn, target_metadata=target_metadata)
    context.run_migrations()


if context.is_offline_mode():  # pragma: no cover
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run()
