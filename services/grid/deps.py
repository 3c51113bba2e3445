"""The grid routes' dependencies, named once: the books, the audit trail, the registrations
and the return channels.

``create_app`` builds them and puts them on ``app.state`` (the lifespan runs their loops
and closes the engine and the node client); routes take them through ``Depends`` instead
of closing over ``create_app``'s locals, so they live in module-level routers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.grid.audit import AuditTrail
from services.grid.bookkeeping import GridBooks
from shared.energy.channels import ChannelBook
from shared.energy.registration import RegistrationStore

__all__ = ["AuditDep", "BooksDep", "ChannelBookDep", "RegistrationsDep"]


async def _books(request: Request) -> GridBooks:
    books: GridBooks = request.app.state.books
    return books


async def _audit(request: Request) -> AuditTrail | None:
    audit: AuditTrail | None = request.app.state.audit
    return audit


async def _registrations(request: Request) -> RegistrationStore:
    registrations: RegistrationStore = request.app.state.registrations
    return registrations


async def _channel_book(request: Request) -> ChannelBook:
    book: ChannelBook = request.app.state.channel_book
    return book


BooksDep = Annotated[GridBooks, Depends(_books)]
#: None while GRID_LEDGER_URL is empty (no audit trail).
AuditDep = Annotated[AuditTrail | None, Depends(_audit)]
RegistrationsDep = Annotated[RegistrationStore, Depends(_registrations)]
ChannelBookDep = Annotated[ChannelBook, Depends(_channel_book)]
