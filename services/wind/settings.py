"""Environment settings of the wind energy provider (defined in shared/provider.py, which a
fleet shares)."""

from __future__ import annotations

from shared.provider import WindSettings as ProviderSettings

__all__ = ["ProviderSettings"]
