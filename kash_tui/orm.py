"""The SQLAlchemy side of the database: the declarative base of every domain's entities and the
UTC timestamp column type. Imported only by code that uses the ORM or the migrations; the hot
paths (loading bars, storing a run) reach the database through :meth:`Database.raw` without it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every domain's ``entities.py``: one metadata for migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores none natively)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:  # noqa: ANN001
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_tables_registered = False


def register_all_tables() -> None:
    """Import every domain's ``entities`` so ``Base.metadata`` knows every table before the
    first flush: foreign keys cross domains (a portfolio names its connection), and the services
    import their entities only when first used. Found by listing the domain packages, as
    ``migrations/env.py`` lists them, so a new domain needs no entry here."""
    global _tables_registered
    if _tables_registered:
        return
    import importlib.util
    import pkgutil

    import kash_tui.domains

    for info in pkgutil.iter_modules(kash_tui.domains.__path__):
        if info.ispkg:
            name = f"kash_tui.domains.{info.name}.entities"
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
    _tables_registered = True
