"""The seed's grid storage API: JSON items under ``registration-id / context / id``.

    PUT    /storage/item/{registrationId}/{context}/{id}   (the seed's path)
    PUT    /storage/{registrationId}/{context}/{id}        (the original code's path)
    GET    /storage/{registrationId}/{context}/{id}        -> {success, message, item}
    GET    /storage/{registrationId}/{context}?page=&page-size=   (also pageSize)
           -> {success, message, ids, items, totalPages, totalItems, pageSize}
    DELETE /storage/{registrationId}[/{context}[/{id}]]

The registration must exist. Any character may be in a context or id when it is
percent-encoded (``a%2Fb`` is one id): :class:`RawPathMiddleware` routes on the raw path
and hands each segment over with only ``%`` and ``/`` still escaped, and the handlers
unescape them. Items are JSON objects of at most 1 MiB (BodySizeLimitMiddleware).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import Table, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from services.grid.db import StorageItem
from shared.db import run_db
from shared.energy.models import utcnow
from shared.energy.registration import ApiResult, EnergyApiError, check_registration_id
from shared.web import provide, provided

__all__ = [
    "MAX_KEY_LENGTH",
    "BatchedWriter",
    "RawPathMiddleware",
    "StorageApi",
    "StorageList",
    "StorageStore",
    "router",
    "storage_router",
]

MAX_KEY_LENGTH = 1024
# The items table as a Core Table (executemany without the ORM's per-row bookkeeping).
_ITEMS: Table = StorageItem.__table__  # type: ignore[assignment]
MAX_PAGE_SIZE = 1000


class RawPathMiddleware:
    """Route on the raw path so that an encoded ``/`` stays inside its segment.

    Each raw segment is percent-decoded, then only ``%`` and ``/`` are escaped again:
    the routes see one segment per raw segment, and :func:`segment` gives the text back.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") if scope["type"] == "http" else None
        if raw:
            path = raw.split(b"?", 1)[0].decode("latin-1")
            if "%" in path:
                scope = dict(scope)
                scope["path"] = "/".join(
                    _escape_minimal(unquote(part, errors="replace")) for part in path.split("/")
                )
        await self.app(scope, receive, send)


def _escape_minimal(text: str) -> str:
    return text.replace("%", "%25").replace("/", "%2F")


def segment(value: str) -> str:
    """The text of one path segment as routed by :class:`RawPathMiddleware`."""
    return value.replace("%2F", "/").replace("%25", "%") if "%" in value else value


def _key(value: str, name: str) -> str:
    text = segment(value)
    if not text or len(text) > MAX_KEY_LENGTH:
        raise EnergyApiError(
            400,
            f"The parameter '{name}' has an invalid value: 1 to {MAX_KEY_LENGTH} characters.",
        )
    return text


class StorageList(BaseModel):
    """One page of a context's items (the seed's "Read all items" answer)."""

    success: bool
    message: str
    ids: list[str]
    items: list[dict[str, Any]]
    totalPages: int = Field(examples=[6])
    totalItems: int = Field(examples=[45])
    pageSize: int = Field(examples=[10])


class StorageItemResult(BaseModel):
    success: bool
    message: str
    item: dict[str, Any] = Field(examples=[{"myCustomData": "Some data"}])


class StorageStore:
    """The items table (blocking calls)."""

    def __init__(self, sessions: sessionmaker[Session], max_items: int) -> None:
        self.sessions = sessions
        self.max_items = max_items
        bind = sessions.kw.get("bind")
        if not isinstance(bind, Engine):
            raise TypeError("the sessionmaker must be bound to an Engine")
        self._engine: Engine = bind
        self._get_body = select(StorageItem.body).where(
            StorageItem.registration_id == bindparam("r"),
            StorageItem.context == bindparam("c"),
            StorageItem.item_id == bindparam("i"),
        )
        # A primary-key read of a local SQLite file takes tens of microseconds and never
        # waits for an fsync (WAL readers do not block): cheaper on the event loop than
        # the hop to a worker thread. Other databases are read in a thread.
        self.inline_reads = bind.dialect.name == "sqlite"

    def put(self, registration_id: str, context: str, item_id: str, body: str) -> None:
        """Create or replace an item. Two requests creating the same item at once: the
        second finds the first's row on its retry and replaces it."""
        for _attempt in range(5):
            try:
                self._put(registration_id, context, item_id, body)
                return
            except IntegrityError:
                continue
        raise EnergyApiError(409, f"Item '{item_id}' is being written concurrently; try again.")

    def put_many(self, puts: list[tuple[str, str, str, str]]) -> list[EnergyApiError | None]:
        """Several puts in one transaction (one fsync), decided in Python and written with
        two executemany statements; each item's refusal (storage full) is its own. The
        same item twice in a batch: the later body wins. IntegrityError (another process
        created one of them meanwhile) propagates."""
        keys = {(r, c, i) for r, c, i, _ in puts}
        results: list[EnergyApiError | None] = []
        with self.sessions.begin() as session:
            existing: set[tuple[str, str, str]] = set()
            for owner in {r for r, _, _ in keys}:
                mine = [(c, i) for r, c, i in keys if r == owner]
                for first in range(0, len(mine), 200):
                    chunk = mine[first : first + 200]
                    rows = session.execute(
                        select(StorageItem.context, StorageItem.item_id).where(
                            StorageItem.registration_id == owner,
                            or_(
                                *(
                                    and_(StorageItem.context == c, StorageItem.item_id == i)
                                    for c, i in chunk
                                )
                            ),
                        )
                    )
                    existing.update((owner, c, i) for c, i in rows)
            counts: dict[str, int] = {}
            inserts: dict[tuple[str, str, str], str] = {}
            updates: dict[tuple[str, str, str], str] = {}
            for registration_id, context, item_id, body in puts:
                key = (registration_id, context, item_id)
                if key in existing:
                    updates[key] = body
                elif key in inserts:
                    inserts[key] = body
                else:
                    if registration_id not in counts:
                        counts[registration_id] = int(
                            session.scalar(
                                select(func.count()).where(
                                    StorageItem.registration_id == registration_id
                                )
                            )
                            or 0
                        )
                    if counts[registration_id] >= self.max_items:
                        results.append(self._full(registration_id))
                        continue
                    counts[registration_id] += 1
                    inserts[key] = body
                results.append(None)
            now = utcnow()
            if inserts:
                session.execute(
                    insert(_ITEMS),
                    [
                        {
                            "registration_id": r,
                            "context": c,
                            "item_id": i,
                            "body": body,
                            "updated_at": now,
                        }
                        for (r, c, i), body in inserts.items()
                    ],
                )
            if updates:
                table = _ITEMS
                session.execute(
                    update(table)
                    .where(
                        table.c.registration_id == bindparam("r"),
                        table.c.context == bindparam("c"),
                        table.c.item_id == bindparam("i"),
                    )
                    .values(body=bindparam("b"), updated_at=now),
                    [{"r": r, "c": c, "i": i, "b": body} for (r, c, i), body in updates.items()],
                )
        return results

    def _full(self, registration_id: str) -> EnergyApiError:
        return EnergyApiError(
            409,
            f"Registration '{registration_id}' already stores {self.max_items} items "
            "(the most allowed): delete some first.",
        )

    def _put(self, registration_id: str, context: str, item_id: str, body: str) -> None:
        with self.sessions.begin() as session:
            self._put_in(session, registration_id, context, item_id, body)

    def _put_in(
        self, session: Session, registration_id: str, context: str, item_id: str, body: str
    ) -> None:
        existing = session.get(StorageItem, (registration_id, context, item_id))
        if existing is not None:
            existing.body = body
            existing.updated_at = utcnow()
            return
        count = session.scalar(
            select(func.count()).where(StorageItem.registration_id == registration_id)
        )
        if (count or 0) >= self.max_items:
            raise self._full(registration_id)
        session.add(
            StorageItem(
                registration_id=registration_id, context=context, item_id=item_id, body=body
            )
        )

    def get(self, registration_id: str, context: str, item_id: str) -> str | None:
        # A prebuilt Core statement on a pooled connection: the hot path of the API,
        # without building a query or an ORM session per read.
        with self._engine.connect() as connection:
            return connection.execute(
                self._get_body, {"r": registration_id, "c": context, "i": item_id}
            ).scalar()

    def page(
        self, registration_id: str, context: str, page: int, size: int
    ) -> tuple[list[tuple[str, str]], int]:
        where = (StorageItem.registration_id == registration_id, StorageItem.context == context)
        with self.sessions() as session:
            total = int(session.scalar(select(func.count()).where(*where)) or 0)
            rows = session.execute(
                select(StorageItem.item_id, StorageItem.body)
                .where(*where)
                .order_by(StorageItem.item_id)
                .offset(page * size)
                .limit(size)
            ).all()
        return [(row[0], row[1]) for row in rows], total

    def delete(
        self, registration_id: str, context: str | None = None, item_id: str | None = None
    ) -> int:
        statement = delete(StorageItem).where(StorageItem.registration_id == registration_id)
        if context is not None:
            statement = statement.where(StorageItem.context == context)
        if item_id is not None:
            statement = statement.where(StorageItem.item_id == item_id)
        with self.sessions.begin() as session:
            return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


class BatchedWriter:
    """Group commit for PUTs: requests arriving together share one transaction (one
    fsync with SQLite's synchronous=FULL), each answered only after it committed.

    One writer task drains the queue; a batch holds at most ``max_batch`` puts.
    """

    def __init__(self, store: StorageStore, max_batch: int = 256) -> None:
        self.store = store
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[tuple[str, str, str, str], asyncio.Future[None]]] = (
            asyncio.Queue()
        )
        self._task: asyncio.Task[None] | None = None

    async def put(self, registration_id: str, context: str, item_id: str, body: str) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="storage-writer")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put(((registration_id, context, item_id, body), done))
        await done

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < self.max_batch:
                batch.append(self._queue.get_nowait())
            try:
                results = await run_db(self.store.put_many, [put for put, _ in batch])
            except Exception:
                # one at a time (IntegrityError from a concurrent writer, a lost connection)
                results = []
                for put, _ in batch:
                    try:
                        await run_db(self.store.put, *put)
                        results.append(None)
                    except EnergyApiError as error:
                        results.append(error)
                    except Exception as error:
                        results.append(EnergyApiError(409, f"The item was not stored: {error}"))
            for (_, done), result in zip(batch, results, strict=True):
                if done.done():
                    continue
                if result is None:
                    done.set_result(None)
                else:
                    done.set_exception(result)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


RegistrationId = Annotated[
    str, PathParam(description="The registration id of a producer or consumer (at least 8).")
]
Context = Annotated[str, PathParam(description="A group of items, like a directory.")]
ItemId = Annotated[str, PathParam(description="The item's name, for example file.txt.")]
Item = Annotated[
    dict[str, Any],
    Body(description="A JSON object (at most 1 MiB).", examples=[{"myCustomData": "Some data"}]),
]


@dataclass(frozen=True)
class StorageApi:
    """What the storage routes serve: the store, ``registered(id) -> bool`` (whether a
    registration exists) and the writer batching the puts."""

    store: StorageStore
    registered: Callable[[str], Awaitable[bool]]
    writer: BatchedWriter


async def _api(request: Request) -> StorageApi:
    api: StorageApi = provided(request, "grid_storage")
    return api


Api = Annotated[StorageApi, Depends(_api)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ApiResult, "description": text}
    for code, text in (
        (400, "A parameter is invalid"),
        (404, "The registration or item does not exist"),
        (409, "The registration stores the most items allowed"),
        (413, "The item is larger than 1 MiB"),
        (422, "The body is not a JSON object"),
    )
}

#: The storage routes, module-level; :func:`storage_router` gives them one store.
router = APIRouter(tags=["storage"])


async def _owner(api: StorageApi, value: str) -> str:
    registration_id = check_registration_id(segment(value), "registration-id")
    if not await api.registered(registration_id):
        raise EnergyApiError(404, f"Registration '{registration_id}' does not exist.")
    return registration_id


async def _put(
    api: StorageApi, registrationId: str, context: str, id: str, item: dict[str, Any]
) -> ApiResult:
    registration_id = await _owner(api, registrationId)
    body = json.dumps(item, separators=(",", ":"), ensure_ascii=True)
    await api.writer.put(registration_id, _key(context, "context"), _key(id, "id"), body)
    return ApiResult(success=True, message="OK")


@router.put(
    "/storage/item/{registrationId}/{context}/{id}", response_model=ApiResult, responses=_ERRORS
)
async def put_item(
    registrationId: RegistrationId, context: Context, id: ItemId, item: Item, api: Api
) -> ApiResult:
    """Save an item (the seed's path)."""
    return await _put(api, registrationId, context, id, item)


@router.put("/storage/{registrationId}/{context}/{id}", response_model=ApiResult, responses=_ERRORS)
async def put_item_original(
    registrationId: RegistrationId, context: Context, id: ItemId, item: Item, api: Api
) -> ApiResult:
    """Save an item (the original code's path)."""
    return await _put(api, registrationId, context, id, item)


@router.get(
    "/storage/{registrationId}/{context}/{id}",
    response_model=StorageItemResult,
    responses=_ERRORS,
)
async def get_item(
    registrationId: RegistrationId, context: Context, id: ItemId, api: Api
) -> Response:
    """Return an item."""
    registration_id = await _owner(api, registrationId)
    item_id = _key(id, "id")
    context_name = _key(context, "context")
    store = api.store
    body = (
        store.get(registration_id, context_name, item_id)
        if store.inline_reads
        else await run_db(store.get, registration_id, context_name, item_id)
    )
    if body is None:
        raise EnergyApiError(404, f"Item '{item_id}' does not exist in context '{context_name}'.")
    # The stored text is the item's JSON already: no parse and re-dump per read.
    return Response(
        b'{"success":true,"message":"OK","item":' + body.encode("ascii") + b"}",
        media_type="application/json",
    )


@router.get("/storage/{registrationId}/{context}", response_model=StorageList, responses=_ERRORS)
async def list_items(
    registrationId: RegistrationId,
    context: Context,
    api: Api,
    page: Annotated[int | None, Query(ge=0, le=10**9, description="From 0")] = None,
    page_size: Annotated[
        int | None, Query(alias="page-size", ge=1, le=MAX_PAGE_SIZE, description="Default 10")
    ] = None,
    pageSize: Annotated[
        int | None, Query(ge=1, le=MAX_PAGE_SIZE, description="The same as page-size")
    ] = None,
) -> Response:
    """One page of a context's items, ordered by id."""
    registration_id = await _owner(api, registrationId)
    if page_size is not None and pageSize is not None and page_size != pageSize:
        raise EnergyApiError(
            400, "The parameter 'pageSize' has an invalid value: it differs from 'page-size'."
        )
    size = page_size or pageSize or 10
    number = page or 0
    rows, total = await run_db(
        api.store.page, registration_id, _key(context, "context"), number, size
    )
    ids = json.dumps([item_id for item_id, _ in rows], ensure_ascii=True)
    items = "[" + ",".join(body for _, body in rows) + "]"
    head = (
        f'{{"success":true,"message":"OK","ids":{ids},"items":{items},'
        f'"totalPages":{math.ceil(total / size)},"totalItems":{total},"pageSize":{size}}}'
    )
    return Response(head.encode("ascii"), media_type="application/json")


@router.delete("/storage/{registrationId}", response_model=ApiResult, responses=_ERRORS)
async def delete_all(registrationId: RegistrationId, api: Api) -> ApiResult:
    """Delete every item of a registration."""
    registration_id = await _owner(api, registrationId)
    await run_db(api.store.delete, registration_id)
    return ApiResult(success=True, message="OK")


@router.delete("/storage/{registrationId}/{context}", response_model=ApiResult, responses=_ERRORS)
async def delete_context(registrationId: RegistrationId, context: Context, api: Api) -> ApiResult:
    """Delete every item of a context."""
    registration_id = await _owner(api, registrationId)
    await run_db(api.store.delete, registration_id, _key(context, "context"))
    return ApiResult(success=True, message="OK")


@router.delete(
    "/storage/{registrationId}/{context}/{id}", response_model=ApiResult, responses=_ERRORS
)
async def delete_item(
    registrationId: RegistrationId, context: Context, id: ItemId, api: Api
) -> ApiResult:
    """Delete one item."""
    registration_id = await _owner(api, registrationId)
    item_id, context_name = _key(id, "id"), _key(context, "context")
    if not await run_db(api.store.delete, registration_id, context_name, item_id):
        raise EnergyApiError(404, f"Item '{item_id}' does not exist in context '{context_name}'.")
    return ApiResult(success=True, message="OK")


def storage_router(
    store: StorageStore,
    registered: Callable[[str], Awaitable[bool]],
    writer: BatchedWriter | None = None,
) -> APIRouter:
    """The storage routes over ``store``; ``registered(id) -> bool`` says whether a
    registration exists."""
    bound = APIRouter()
    api = StorageApi(store, registered, writer or BatchedWriter(store))
    bound.include_router(router, dependencies=[provide("grid_storage", api)])
    return bound
