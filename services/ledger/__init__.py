"""The ledger service (seed 002): a ledger kept by several participants (docs/ledger.md)."""
