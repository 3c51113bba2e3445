"""Test-wide configuration: fixtures every area may use.

``postgres_url`` (tests/support/postgres.py) gives a test an empty PostgreSQL database of
its own on a throwaway server started once per session. ``databases`` (per module) and
``database_url`` (per test) run a test on SQLite and again on PostgreSQL.
"""

pytest_plugins = ["tests.support.postgres"]
