"""Every schemathesis check (``--checks all``) against a live service's ``/openapi.json``.

One helper for every service's OpenAPI run (tests/integration/fuzz/test_openapi_*.py and
the services' own fuzz modules): schema-valid (positive) and schema-invalid (negative)
requests, bounded in examples, and every reply run through all of schemathesis' checks:

- ``not_a_server_error``: no 5xx (a service may list statuses it really answers with
  5xx, e.g. 503 while a dependency is down, in ``allowed_5xx``);
- ``status_code_conformance``: every status is declared in the operation's ``responses``;
- ``content_type_conformance``, ``response_headers_conformance``,
  ``response_schema_conformance``: the reply matches what is declared;
- ``negative_data_rejection`` (negative mode): schema-invalid input is refused with 4xx;
- ``positive_data_acceptance`` (positive mode): schema-valid input is accepted;
- ``missing_required_header``, ``unsupported_method``, ``allow_header_conformance``,
  ``use_after_free``, ``ensure_resource_availability``, ``ignored_auth``,
  ``object_level_authorization``: run too; the ones that need schemathesis' coverage or
  stateful phases (which a Hypothesis strategy per case does not run) find nothing to
  check and pass, they are not switched off.

Checks a service cannot meet by design are excluded per run with the reason next to it
(``exclude``). The schemathesis failure message names the check, the request and a
``curl`` line to replay it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import schemathesis
from hypothesis import given
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup

from tests.integration.fuzz.conftest import fuzz_settings

__all__ = ["ALL_CHECKS", "all_checks_but", "check_named", "run_all_checks"]

load_all_checks()
ALL_CHECKS: list[Any] = list(CHECKS.get_all())


def check_named(name: str) -> Any:
    """One built-in check by its CLI name (``status_code_conformance`` ...)."""
    [found] = [check for check in ALL_CHECKS if check.__name__ == name]
    return found


def all_checks_but(*names: str) -> list[Any]:
    """Every built-in check except ``names`` (each replaced or excluded with a reason)."""
    unknown = set(names) - {check.__name__ for check in ALL_CHECKS}
    assert not unknown, f"no such schemathesis check: {unknown}"
    return [check for check in ALL_CHECKS if check.__name__ not in names]


def _no_traceback(ctx: Any, response: Any, case: Any) -> bool | None:
    """Our own addition: no reply leaks a Python traceback."""
    assert "Traceback (most recent call last)" not in response.text, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )
    return None


def _summary(failure: BaseException) -> str:
    if isinstance(failure, FailureGroup):
        return "; ".join(
            f"{type(e).__name__} {getattr(e, 'status_code', '') or ''}".strip()
            for e in failure.exceptions
        )
    return str(failure).splitlines()[0][:200] if str(failure) else type(failure).__name__


def _unless(check: Any, predicate: Callable[[Any], bool]) -> Any:
    def guarded(ctx: Any, response: Any, case: Any) -> bool | None:
        return None if predicate(case) else check(ctx, response, case)

    guarded.__name__ = check.__name__
    return guarded


def run_all_checks(
    base_url: str,
    *,
    positive: int,
    negative: int,
    headers: dict[str, str] | None = None,
    skip: Callable[[Any], bool] | None = None,
    exclude: Iterable[str] = (),
    allowed_5xx: Callable[[Any, int], bool] | None = None,
    operations: Callable[[Any], Any] | None = None,
    exclude_where: dict[str, Callable[[Any], bool]] | None = None,
) -> None:
    """Fuzz ``base_url``'s OpenAPI with every check; raise on the first failure.

    ``skip(case)`` leaves out cases that would only harm what a later assertion reads;
    Every distinct failure (check, operation, status) is collected and reported together.
    ``exclude`` names checks that cannot apply to this service (say why at the call);
    ``allowed_5xx(case, status)`` accepts a documented 5xx (e.g. 502 when a peer the test
    did not start is unreachable) instead of ``not_a_server_error``; ``operations(schema)``
    narrows the schema (e.g. ``schema.exclude(path_regex=...)``).
    """
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    if operations is not None:
        schema = operations(schema)
    excluded = set(exclude)
    checks = [check for check in ALL_CHECKS if check.__name__ not in excluded]
    if allowed_5xx is not None:
        plain = check_named("not_a_server_error")
        checks = [check for check in checks if check is not plain]

        def server_error_unless_documented(ctx: Any, response: Any, case: Any) -> bool | None:
            status = response.status_code
            if status >= 500 and not allowed_5xx(case, status):
                raise AssertionError(
                    f"{case.method} {case.formatted_path} -> {status}: {response.text[:500]}"
                )
            return None

        checks.append(server_error_unless_documented)
    checks.append(_no_traceback)
    for name, predicate in (exclude_where or {}).items():
        original = check_named(name)
        checks = [_unless(original, predicate) if c is original else c for c in checks]

    found: dict[str, str] = {}
    for mode, examples in (
        (schemathesis.GenerationMode.POSITIVE, positive),
        (schemathesis.GenerationMode.NEGATIVE, negative),
    ):
        if examples <= 0:
            continue

        @fuzz_settings(examples)
        @given(case=schema.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            if skip is not None and skip(case):
                return
            try:
                case.call_and_validate(headers=headers, checks=checks, timeout=30)
            except (AssertionError, FailureGroup) as failure:
                # Collected, not raised: one run reports every distinct defect (and spends
                # no time shrinking); the first example of each is kept to replay.
                key = f"{case.method} {case.operation.path}: {_summary(failure)}"
                found.setdefault(key, f"{failure}\n{case.as_curl_command()}")

        run()
    assert not found, "\n".join(
        [
            f"{len(found)} distinct failures:",
            *found,
            "",
            *(f"== {k}\n{d}" for k, d in found.items()),
        ]
    )
