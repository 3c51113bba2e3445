"""Environment settings of the solar energy provider (defined in shared/provider.py, which a
fleet shares)."""

from __future__ import annotations

from shared.provider import SolarSettings as ProviderSettings

__all__ = ["ProviderSettings"]
