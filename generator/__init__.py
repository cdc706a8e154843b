"""schemarel: JSON Schemas to relational tables, SQLAlchemy models, Alembic migrations and docs."""

__version__ = "0.1.0"
