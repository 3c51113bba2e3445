"""The machine kit's route dependencies, named once: the settings and the MACHINE_TOKEN rule.

``create_machine_app`` puts the settings on ``app.state.machine_settings``; the routes of
the kit (shared/machine/app.py, shared/machine/channel_payment.py) and of the parts added
to a machine (shared/energy/source.py) take them through ``Depends``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shared.auth import BearerToken, require_bearer
from shared.machine.settings import MachineSettings

__all__ = ["MachineSettingsDep", "require_machine_token"]


async def _machine_settings(request: Request) -> MachineSettings:
    settings: MachineSettings = request.app.state.machine_settings
    return settings


MachineSettingsDep = Annotated[MachineSettings, Depends(_machine_settings)]


async def _machine_token(settings: MachineSettingsDep) -> BearerToken:
    return BearerToken(settings.machine_token, open_when_unset=settings.machine_open)


#: The one bearer rule (shared/auth.py) for machine-to-machine routes: MACHINE_TOKEN, or
#: open only when MACHINE_OPEN=true says so. Use as ``dependencies=[require_machine_token]``.
require_machine_token = Depends(
    require_bearer(_machine_token, setting="MACHINE_TOKEN", open_setting="MACHINE_OPEN")
)
