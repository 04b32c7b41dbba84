"""Strategy domain tables: none yet.

Strategies are code (``builtin/``) and their parameters travel with the backtest runs that the
trading domain stores, so this domain owns no table. A table (e.g. saved parameter presets)
would be declared here and added through an Alembic migration.
"""
