"""The solar energy provider's app factory: a provider of kind "solar" (shared/provider.py)."""

from __future__ import annotations

import socketio

from services.solar.settings import ProviderSettings
from shared.provider import create_provider_app

__all__ = ["create_app"]


def create_app(settings: ProviderSettings) -> socketio.ASGIApp:
    return create_provider_app(settings, "solar")
