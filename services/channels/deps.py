"""The admin routes' dependencies, named once: the channel node and the admin token.

``create_app`` puts the node and the settings on ``app.state``; routes take them through
``Depends`` instead of closing over ``create_app``'s locals, so they live in module-level
routers (services/channels/admin.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.channels.settings import ChannelSettings
from shared.auth import BearerToken, require_bearer
from shared.channels.node import ChannelNode

__all__ = ["Node", "require_admin"]


async def channel_node(request: Request) -> ChannelNode:
    node: ChannelNode = request.app.state.channel_node
    return node


async def _admin_token(request: Request) -> BearerToken:
    settings: ChannelSettings = request.app.state.settings
    return BearerToken(settings.admin_token)


Node = Annotated[ChannelNode, Depends(channel_node)]

#: The one bearer rule (shared/auth.py); the admin API has no open switch, so an unset
#: CHANNELS_ADMIN_TOKEN turns it off.
require_admin = require_bearer(_admin_token, setting="CHANNELS_ADMIN_TOKEN")
