"""Alembic migrations for the Moments store (run by `copilot.store.open_store`)."""
