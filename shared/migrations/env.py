"""The Alembic environment of every store (shared/migrations/__init__.py says how it runs)."""

from shared.migrations import run_environment

run_environment()
