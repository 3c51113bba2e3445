"""Rules of the code's shape, read from the source (the AST of every module of services/,
shared/ and firmware/), so a new module cannot quietly break them:

- no route defined inside a function body: routes live in module-level ``APIRouter``s and
  reach their state through dependencies (``request.app.state`` set by the app or its
  lifespan, ``shared.web.provide`` for shared routers; services/lock/deps.py,
  services/devnet/deps.py, services/grid/deps.py, shared/machine/deps.py);
- bearer tokens parsed in one place: only shared/auth.py (``require_bearer``) reads an
  ``Authorization`` header or takes a ``Bearer`` prefix off a string.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "shared", "firmware")

#: The decorators of Starlette/FastAPI apps and routers that define a route.
ROUTE_DECORATORS = {
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "options",
    "trace",
    "websocket",
    "api_route",
    "route",
    "websocket_route",
}

#: Modules still allowed routes in a function body, each with the reason; empty is the goal.
NESTED_ROUTES_ALLOWED: dict[str, str] = {}

#: The one module that parses bearer tokens (shared/auth.py), and the lock's HTTP Basic
#: parser: ``Authorization: Basic`` (user name and password, RFC 7617) is not a bearer
#: token; the lock's bearer tokens go through FastAPI's ``HTTPBearer`` and are looked up in
#: its database per account (services/lock/deps.py), not compared with a configured setting.
AUTHORIZATION_READERS = {"shared/auth.py", "services/lock/deps.py"}
BEARER_CLASSES = {"HTTPBearer", "HTTPAuthorizationCredentials"}


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _receiver(node: ast.expr) -> str:
    """``app`` for ``app.get``, ``router`` for ``self.router.post``."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def is_route_decorator(decorator: ast.expr) -> bool:
    """``@<app or router>.<method>(...)``: a call of a route method whose receiver is named
    like an app or router, or whose first argument is a path (``""`` or ``"/..."``)."""
    if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
        return False
    if decorator.func.attr not in ROUTE_DECORATORS:
        return False
    receiver = _receiver(decorator.func.value).lower()
    if "app" in receiver or "router" in receiver or receiver.endswith("api"):
        return True
    path = _text(decorator.args[0]) if decorator.args else None
    return path is not None and (path == "" or path.startswith("/"))


def nested_routes(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, name) of every route-decorated function inside another function's body."""

    def visit(node: ast.AST, in_function: bool) -> Iterator[tuple[int, str]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                if in_function and any(is_route_decorator(d) for d in child.decorator_list):
                    yield child.lineno, child.name
                yield from visit(child, True)
            else:
                yield from visit(child, in_function)

    yield from visit(tree, False)


def _text(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def authorization_reads(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, what) of every place that reads an ``Authorization`` header or parses a bearer
    token by hand. Sending one (``{"Authorization": f"Bearer {token}"}``) is not reading."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            first = (_text(node.args[0]) if node.args else None) or ""
            method = node.func.attr
            if method == "get" and first.lower() == "authorization":
                yield node.lineno, f'.get("{first}")'
            if method in {"removeprefix", "startswith", "split", "partition"} and (
                first.strip().lower() == "bearer"
            ):
                yield node.lineno, f'.{method}("{first}")'
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "alias" and (_text(keyword.value) or "").lower() == (
                    "authorization"
                ):
                    yield node.lineno, 'alias="authorization"'
            if _receiver(node.func) in BEARER_CLASSES:
                yield node.lineno, f"{_receiver(node.func)}(...)"
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and (_text(node.slice) or "").lower() == "authorization"
        ):
            yield node.lineno, '["authorization"]'
        if isinstance(node, ast.Compare) and (_text(node.left) or "").lower() == "authorization":
            yield node.lineno, '"authorization" in ...'
        if isinstance(node, ast.arg) and node.arg.lower() == "authorization":
            yield node.lineno, "a parameter named authorization (a header)"


def test_no_route_is_defined_inside_a_function() -> None:
    found = [
        f"{_name(path)}:{line} {name}"
        for path in _modules()
        if _name(path) not in NESTED_ROUTES_ALLOWED
        for line, name in nested_routes(_parse(path))
    ]
    assert not found, (
        "routes defined inside a function body; put them in a module-level APIRouter and "
        "reach the state through dependencies:\n" + "\n".join(found)
    )


def test_only_shared_auth_parses_bearer_tokens() -> None:
    found = [
        f"{_name(path)}:{line} {what}"
        for path in _modules()
        if _name(path) not in AUTHORIZATION_READERS
        for line, what in authorization_reads(_parse(path))
    ]
    assert not found, (
        "the Authorization header read outside shared/auth.py; guard the route with "
        "shared.auth.require_bearer instead:\n" + "\n".join(found)
    )


def test_the_allowed_modules_exist() -> None:
    """An exception outliving its module would hide nothing, yet read as if it did."""
    for name in [*NESTED_ROUTES_ALLOWED, *AUTHORIZATION_READERS]:
        assert (ROOT / name).is_file(), name


# -- the rules catch what they are for ----------------------------------------------------------

NESTED = """
from fastapi import APIRouter, FastAPI

router = APIRouter()

@router.get("/fine")
def fine() -> None: ...

def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/nested")
    async def nested() -> None: ...

    def helper() -> None:
        @router.post("")
        def deeper() -> None: ...

    @app.middleware("http")
    async def not_a_route(request, call_next): ...

    @cache.get("key")
    def a_path_less_cache() -> None: ...

    return app
"""


def test_nested_routes_are_found_with_their_lines() -> None:
    assert list(nested_routes(ast.parse(NESTED))) == [(13, "nested"), (17, "deeper")]


@pytest.mark.parametrize(
    "source",
    [
        'request.headers.get("authorization", "")',
        'request.headers["Authorization"]',
        '"authorization" in request.headers',
        'given = (header or "").removeprefix("Bearer ").strip()',
        'header.startswith("bearer")',
        "def check(authorization: str | None = Header(None)) -> None: ...",
        'def check(token: str = Header(alias="Authorization")) -> None: ...',
        "scheme = HTTPBearer(auto_error=False)",
    ],
)
def test_authorization_reads_are_found(source: str) -> None:
    assert list(authorization_reads(ast.parse(source)))


def test_sending_a_bearer_token_is_not_reading_one() -> None:
    source = 'httpx.post(url, headers={"Authorization": f"Bearer {token}"})'
    assert not list(authorization_reads(ast.parse(source)))


MAX_LINES = 600  # issue 21: a module a reader can hold in their head


def test_no_production_module_is_over_600_lines() -> None:
    long = {
        _name(path): lines
        for path in _modules()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these modules (lines): {long}"


def test_no_service_settings_module_imports_pyota() -> None:
    """A service's __main__ imports its settings before logging is configured (shared/
    service_main.py); PyOTA warns when it is imported, and that warning must come after, in
    the documented log format (tests/integration/test_log_format.py)."""
    import subprocess
    import sys

    modules = sorted(
        f"services.{path.parent.name}.settings"
        for path in (ROOT / "services").glob("*/settings.py")
    )
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "    assert 'iota' not in sys.modules, name + ' imports PyOTA'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
