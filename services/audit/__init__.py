"""The economy audit as a command: ``python -m services.audit`` (docs/audit.md)."""
