"""Test-wide configuration: markers that depend on what the machine has."""
