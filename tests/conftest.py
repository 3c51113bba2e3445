"""Test-wide configuration: fixtures every area may use.

``postgres_url`` (tests/support/postgres.py) gives a test an empty PostgreSQL database of
its own on a throwaway server started once per session.
"""

pytest_plugins = ["tests.support.postgres"]
