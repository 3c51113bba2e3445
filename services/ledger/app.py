"""The ledger service: the gateway (REST + websocket, seed 002) and the participant API.

Every participant runs this app. Users talk to any of them (BasicAuth on REST, a token on
the websocket); the participant that receives a websocket request is the actor of its
consensus round (services/ledger/consensus.py). ``/participant/*`` is for the other
participants only: every request there is signed with a participant's key.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, WebSocket, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel, Field
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocketDisconnect, WebSocketState

from services.ledger import messages
from services.ledger.consensus import (
    Consensus,
    ConsensusError,
    KeyConflict,
    Outcome,
    ProtocolError,
)
from services.ledger.crypto import (
    decode_public_key,
    encode_public_key,
    load_or_create_key,
    private_key_from_seed,
)
from services.ledger.messages import BadRequest, CreateLedger
from services.ledger.peers import PeerClient, verify_request
from services.ledger.settings import LedgerSettings
from services.ledger.store import Identity, Refused, Store
from shared.auth import DUMMY_HASH, hash_password, verify_password
from shared.db import make_engine, run_db
from shared.health import Health, http_probe, service_router
from shared.ratelimit import limit_writes
from shared.tasks import Supervisor
from shared.web import (
    AsciiJSONResponse,
    BodySizeLimitMiddleware,
    error_responses,
    install_error_handlers,
)

__all__ = ["create_app", "load_identity"]

log = logging.getLogger("ledger")

PAGE_SIZE = 100
CREDENTIALS_CACHE_SECONDS = 60.0
#: How long an accepted websocket may stay silent before its request arrives.
REQUEST_WAIT = 30.0


def load_identity(settings: LedgerSettings) -> Identity:
    """Our key (from the environment or the key file) and every participant's public key."""
    if settings.ledger_private_key is not None:
        key = private_key_from_seed(settings.ledger_private_key.get_secret_value())
    else:
        key = load_or_create_key(settings.key_path())
    mine = encode_public_key(key.public_key())
    if mine != settings.me.public_key:
        raise SystemExit(
            f"LEDGER_PARTICIPANTS: the public key of {settings.ledger_participant} is "
            f"{settings.me.public_key}, but this participant's key is {mine}"
        )
    keys = {p.name: decode_public_key(p.public_key) for p in settings.ledger_participants}
    return Identity(settings.ledger_participant, key, keys)


class Service:
    """What the routes share."""

    def __init__(self, settings: LedgerSettings) -> None:
        self.settings = settings
        self.identity = load_identity(settings)
        self.engine = make_engine(settings.database())
        self.store = Store(self.engine, self.identity)
        self.peers = PeerClient(self.identity, settings.ledger_participants)
        self.consensus = Consensus(settings, self.store, self.identity, self.peers)
        self.supervisor = Supervisor("ledger")
        self.health = Health()
        for peer in settings.ledger_participants:
            if peer.name != settings.ledger_participant:
                # Its GET /: alive, whatever its own peers' state (no cascade of 503s).
                self.health.probe(f"peer:{peer.name}", http_probe(peer.url.rstrip("/") + "/"))
        self.health.watch(self.supervisor.down)
        self.users = dict(settings.ledger_users)
        if settings.ledger_admin_password is not None:
            self.users[settings.ledger_admin_username] = hash_password(
                settings.ledger_admin_password.get_secret_value()
            )
        self.verified: dict[bytes, float] = {}
        if not self.users:
            log.warning("event=no_users hint=set LEDGER_USERS or LEDGER_ADMIN_PASSWORD")


class TokenIn(BaseModel):
    token: str = Field(min_length=1, max_length=128)


async def _service(connection: HTTPConnection) -> Service:
    # HTTPConnection: the websocket route takes it too.
    service: Service = connection.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(_service)]
_basic = HTTPBasic(auto_error=False, realm="ledger")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": 'Basic realm="ledger"'}
    )


async def _user(
    service: ServiceDep, credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic)]
) -> str:
    if credentials is None:
        raise _unauthorized("Authentication credentials were not provided.")
    stored = service.users.get(credentials.username)
    # A pair verified a moment ago is not hashed again (scrypt costs ~50 ms and 16 MiB);
    # only a SHA-256 of it is kept, in memory, for CREDENTIALS_CACHE_SECONDS.
    key = hashlib.sha256(
        f"{credentials.username}\0{credentials.password}".encode("utf-8", "surrogatepass")
    ).digest()
    now = time.monotonic()
    if stored is not None and service.verified.get(key, 0.0) > now:
        return credentials.username
    # scrypt off the event loop, and as long for unknown names.
    ok = await asyncio.to_thread(verify_password, credentials.password, stored or DUMMY_HASH)
    if stored is None or not ok:
        raise _unauthorized("Invalid username/password.")
    if len(service.verified) >= 1024:
        service.verified.clear()
    service.verified[key] = now + CREDENTIALS_CACHE_SECONDS
    return credentials.username


UserDep = Annotated[str, Depends(_user)]
_AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "no or wrong BasicAuth credentials"},
    404: {"description": "not found (or an invalid page)"},
}


def _page(request: Request, page: str | None, count: int) -> tuple[int, dict[str, Any]]:
    """DRF's PageNumberPagination: (offset, {count, next, previous}); 404 for a bad page."""
    try:
        number = int(page) if page is not None else 1
    except ValueError:
        raise HTTPException(404, "Invalid page.") from None
    last = max(1, -(-count // PAGE_SIZE))
    if not 1 <= number <= last:
        raise HTTPException(404, "Invalid page.")

    def link(n: int) -> str:
        url = request.url.remove_query_params("page")
        return str(url if n == 1 else url.include_query_params(page=n))

    return (number - 1) * PAGE_SIZE, {
        "count": count,
        "next": link(number + 1) if number < last else None,
        "previous": link(number - 1) if number > 1 else None,
    }


# -- the original's REST API -------------------------------------------------------------------
rest_router = APIRouter(default_response_class=AsciiJSONResponse)


@rest_router.get("/ledgers/", responses=_AUTH_RESPONSES)
async def ledgers(
    request: Request, service: ServiceDep, user: UserDep, page: str | None = None
) -> dict[str, Any]:
    count = await run_db(service.store.count_ledgers)
    offset, links = _page(request, page, count)
    results = await run_db(service.store.ledgers, offset, PAGE_SIZE)
    return {**links, "results": results}


async def _ledger_or_404(service: Service, ledger_id: int) -> dict[str, Any]:
    if not 1 <= ledger_id <= 2**31 - 1:
        raise HTTPException(404, "Not found.")
    ledger = await run_db(service.store.ledger, ledger_id)
    if ledger is None:
        raise HTTPException(404, "Not found.")
    return ledger


@rest_router.get("/ledgers/{ledger_id}/", responses=_AUTH_RESPONSES)
async def ledger(ledger_id: int, service: ServiceDep, user: UserDep) -> dict[str, Any]:
    return await _ledger_or_404(service, ledger_id)


@rest_router.get("/ledgers/{ledger_id}/transactions/", responses=_AUTH_RESPONSES)
async def transactions(
    request: Request,
    ledger_id: int,
    service: ServiceDep,
    user: UserDep,
    page: str | None = None,
) -> dict[str, Any]:
    await _ledger_or_404(service, ledger_id)
    count = await run_db(service.store.count_transactions, ledger_id)
    offset, links = _page(request, page, count)
    results = await run_db(service.store.transactions, ledger_id, offset, PAGE_SIZE)
    return {**links, "results": results}


@rest_router.get("/ledgers/{ledger_id}/transactions/{seq_no}/", responses=_AUTH_RESPONSES)
async def transaction(
    ledger_id: int, seq_no: int, service: ServiceDep, user: UserDep
) -> dict[str, Any]:
    await _ledger_or_404(service, ledger_id)
    item = None
    if 1 <= seq_no <= 2**31 - 1:
        item = await run_db(service.store.transaction, ledger_id, seq_no)
    if item is None:
        raise HTTPException(404, "Not found.")
    return item


@rest_router.get("/ledgers/{ledger_id}/transactions/{seq_no}/proof", responses=_AUTH_RESPONSES)
async def proof(ledger_id: int, seq_no: int, service: ServiceDep, user: UserDep) -> dict[str, Any]:
    await _ledger_or_404(service, ledger_id)
    item = None
    if 1 <= seq_no <= 2**31 - 1:
        item = await run_db(service.store.proof, ledger_id, seq_no)
    if item is None:
        raise HTTPException(404, "Not found.")
    return item


@rest_router.api_route(
    "/maintenance/check_health/",
    methods=["GET", "POST"],
    responses={**_AUTH_RESPONSES, 503: {"description": "a participant did not answer"}},
)
async def check_health(service: ServiceDep, user: UserDep) -> JSONResponse:
    ping_id = secrets.token_hex(8)
    answered, missing = await service.consensus.ping_all()
    ok = not missing
    body = {
        "success": ok,
        "ping_id": ping_id,
        "message": "OK" if ok else "no pong from " + ", ".join(m["participant"] for m in missing),
        "participant": service.settings.ledger_participant,
        "answered": answered,
        "missing": missing,
    }
    return AsciiJSONResponse(body, status_code=200 if ok else 503)


@rest_router.api_route(
    "/maintenance/allocate_token/", methods=["GET", "POST"], responses=_AUTH_RESPONSES
)
async def allocate_token(service: ServiceDep, user: UserDep) -> dict[str, Any]:
    token = secrets.token_hex(16)
    ttl = service.settings.ledger_token_ttl_seconds
    expires = await run_db(service.store.new_token, token, user, ttl)
    log.info("event=token_allocated user=%s ttl=%s", user, ttl)
    return {"token": token, "expires_in": ttl, "expires_at": expires}


@rest_router.post(
    "/maintenance/revoke_token/",
    responses={**_AUTH_RESPONSES, **error_responses({400: "the body is not JSON"})},
)
async def revoke_token(body: TokenIn, service: ServiceDep, user: UserDep) -> dict[str, Any]:
    if not await run_db(service.store.revoke_token, body.token, user):
        raise HTTPException(404, "No such live token of yours.")
    log.info("event=token_revoked user=%s", user)
    return {"revoked": True}


# -- the websocket ----------------------------------------------------------------------------
socket_router = APIRouter(default_response_class=AsciiJSONResponse)


@socket_router.websocket("/transactions")
async def transactions_socket(websocket: WebSocket, service: ServiceDep) -> None:
    token = websocket.query_params.get("token", "")
    user = None
    if 0 < len(token) <= 128:
        user = service.store.cached_token_user(token) or await run_db(
            service.store.token_user, token
        )
    if user is None or user not in service.users:
        # Refused before accepting: the handshake fails with 403.
        await websocket.close(code=1008)
        return
    await websocket.accept()
    try:
        await _serve_request(service, websocket)
    except WebSocketDisconnect:
        return
    finally:
        if websocket.client_state == WebSocketState.CONNECTED:
            await websocket.close()


# -- the participant API ----------------------------------------------------------------------
participant_router = APIRouter(default_response_class=AsciiJSONResponse)

#: The participant API's actions and the consensus method answering each.
_HANDLERS = {
    "propose": "on_propose",
    "commit": "on_commit",
    "post-commit": "on_post_commit",
    "abort": "on_abort",
    "status": "on_status",
}


@participant_router.post("/participant/{action}", include_in_schema=False)
async def participant(action: str, request: Request, service: ServiceDep) -> JSONResponse:
    body = await request.body()
    try:
        caller = verify_request(
            service.identity,
            "POST",
            request.url.path,
            request.headers,
            body,
            service.settings.ledger_clock_skew,
        )
    except ValueError as error:
        return AsciiJSONResponse({"detail": f"participants only: {error}"}, status_code=401)
    try:
        payload = json.loads(body)
    except ValueError:
        return AsciiJSONResponse({"detail": "body is not JSON"}, status_code=400)
    try:
        if action == "ping":
            return AsciiJSONResponse(service.consensus.pong(payload))
        method = _HANDLERS.get(action)
        if method is None:
            return AsciiJSONResponse({"detail": f"no action {action}"}, status_code=404)
        handler = getattr(service.consensus, method)
        return AsciiJSONResponse(await handler(caller, payload))
    except Refused as error:
        log.info("event=refused action=%s caller=%s why=%r", action, caller, str(error))
        return AsciiJSONResponse({"explain": str(error)}, status_code=409)
    except ProtocolError as error:
        return AsciiJSONResponse({"detail": str(error)}, status_code=400)


def create_app(settings: LedgerSettings) -> FastAPI:
    service = Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.consensus.recovery.at_start()
        service.supervisor.start("recovery", service.consensus.recovery.loop)
        await service.health.start()
        log.info(
            "event=started participant=%s participants=%s",
            settings.ledger_participant,
            ",".join(service.identity.participants),
        )
        try:
            yield
        finally:
            await service.health.stop()
            await service.supervisor.stop()
            await service.consensus.close()
            await service.peers.close()
            service.engine.dispose()

    app = FastAPI(
        title="ledger",
        version="1.0",
        description="A ledger kept by several participants (docs/ledger.md).",
        lifespan=lifespan,
        default_response_class=AsciiJSONResponse,
    )
    app.state.service = service
    # Proposals between participants carry up to two requests' worth of transactions
    # (services/ledger/consensus.py batches within that) plus signatures.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=4 * settings.ledger_max_message_bytes)
    # Writes and the transaction websocket, per client address; the participant API is
    # exempt: it answers only requests signed by the configured peers (docs/ledger.md).
    limit_writes(app, settings, exempt=("/participant/*",), websockets=True)
    install_error_handlers(app)

    def index() -> dict[str, Any]:
        return {
            "service": "ledger",
            "participant": settings.ledger_participant,
            "participants": [
                {"name": p.name, "url": p.url, "public_key": p.public_key}
                for p in settings.ledger_participants
            ],
            "docs": "/docs",
        }

    # GET / and GET /health (shared/health.py): every other participant probed in the
    # background (a round needs them all), and the recovery task.
    app.include_router(
        service_router(
            "ledger",
            service.health,
            index=index,
            details=lambda: {"participant": settings.ledger_participant},
        )
    )

    app.include_router(rest_router)
    app.include_router(socket_router)
    app.include_router(participant_router)

    return app


async def _send(websocket: WebSocket, message: dict[str, Any]) -> None:
    await websocket.send_text(json.dumps(message, ensure_ascii=True))


async def _serve_request(service: Service, websocket: WebSocket) -> None:
    """One request per connection, as the original: answer it, then close."""
    settings = service.settings
    try:
        frame = await asyncio.wait_for(websocket.receive(), REQUEST_WAIT)
    except TimeoutError:
        await _send(
            websocket,
            messages.problem_report(messages.REQUEST_ERROR, "No request within 30 s"),
        )
        return
    if frame["type"] == "websocket.disconnect":
        return
    text = frame.get("text")
    raw: str | bytes = text if isinstance(text, str) else bytes(frame.get("bytes") or b"")
    thread: str | None = None
    try:
        payload = messages.decode(raw)
        if isinstance(payload, dict) and isinstance(payload.get("@id"), str):
            thread = payload["@id"][:256]
        request = messages.parse_request(
            payload,
            default_ttl=settings.ledger_default_ttl,
            max_ttl=settings.ledger_max_ttl,
            max_batch=settings.ledger_max_batch,
        )
    except BadRequest as error:
        await _send(
            websocket, messages.problem_report(messages.REQUEST_ERROR, str(error), thread=thread)
        )
        return
    gone = False

    async def progress(value: float | None, message: str) -> None:
        nonlocal gone
        if gone:
            return
        try:
            await _send(websocket, messages.progress(value, message, thread=thread))
        except Exception:
            gone = True  # the client left; its round goes on without it

    key: str | None = None
    try:
        outcome: Outcome
        if isinstance(request, CreateLedger):
            outcome = await service.consensus.create_ledger(request, progress)
            name = request.name
        else:
            outcome = await service.consensus.issue(request, progress)
            name = request.ledger
            key = request.idempotency_key
    except KeyConflict as error:
        if not gone:
            await _send(
                websocket,
                messages.problem_report(messages.REQUEST_ERROR, error.explain, thread=thread),
            )
        return
    except ConsensusError as error:
        if not gone:
            await _send(
                websocket,
                messages.problem_report(
                    messages.REQUEST_PROCESSING_ERROR, error.explain, thread=thread
                ),
            )
        return
    if not gone:
        extra: dict[str, Any] = {"committed": True}
        if outcome.seq_no is not None:
            extra["seq_no"] = outcome.seq_no
        if key is not None:
            extra["idempotency_key"] = key
        if outcome.replayed:
            extra["replayed"] = True
        if outcome.unconfirmed:
            extra["unconfirmed"] = list(outcome.unconfirmed)
        await _send(websocket, messages.done(name, outcome.ledger_id, thread=thread, extra=extra))
