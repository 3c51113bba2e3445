"""shared/retry.py: exponential delays with full jitter, bounded, reproducible with a seeded rng."""

from __future__ import annotations

import random
import time

import pytest

from shared.retry import Backoff, retry_async


def test_delays_stay_within_the_growing_ceiling() -> None:
    backoff = Backoff(initial=0.1, maximum=2.0, factor=2.0, rng=random.Random(7))
    for failure in range(12):
        ceiling = min(2.0, 0.1 * 2**failure)
        delay = backoff.next_delay()
        assert 0.01 <= delay <= ceiling, (failure, delay)
    assert backoff.failures == 12


def test_jitter_spreads_machines_that_failed_together() -> None:
    # Many machines lose the node at once: their n-th retries must not line up.
    delays = [Backoff(0.5, 30.0, rng=random.Random(seed)) for seed in range(50)]
    for backoff in delays:
        for _ in range(5):
            backoff.next_delay()
    sixth = [backoff.next_delay() for backoff in delays]
    assert len({round(d, 3) for d in sixth}) > 40
    assert min(sixth) < 4.0 < max(sixth) <= 16.0  # spread over [0, 0.5 * 2**5]


def test_same_seed_same_delays_and_reset_starts_over() -> None:
    first = Backoff(0.2, 5.0, rng=random.Random(42))
    second = Backoff(0.2, 5.0, rng=random.Random(42))
    a = [first.next_delay() for _ in range(6)]
    assert a == [second.next_delay() for _ in range(6)]
    first.reset()
    assert first.failures == 0
    assert first.next_delay() <= 0.2


def test_the_maximum_caps_every_delay() -> None:
    backoff = Backoff(1.0, 3.0, factor=10.0, rng=random.Random(1))
    delays = [backoff.next_delay() for _ in range(200)]
    assert max(delays) <= 3.0
    assert max(delays) > 2.5  # and the cap is reached, not just the first step


def test_never_zero() -> None:
    class ZeroRandom(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return 0.0

    assert Backoff(0.5, 1.0, rng=ZeroRandom()).next_delay() == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("initial", "maximum", "factor"), [(0, 1, 2), (-1, 1, 2), (2, 1, 2), (0.1, 1, 0.5)]
)
def test_bad_parameters_are_refused(initial: float, maximum: float, factor: float) -> None:
    with pytest.raises(ValueError):
        Backoff(initial, maximum, factor)


async def test_sleep_waits_the_delay_it_returns() -> None:
    backoff = Backoff(0.05, 0.05, rng=random.Random(3))
    started = time.monotonic()
    delay = await backoff.sleep()
    assert 0.005 <= delay <= 0.05
    assert time.monotonic() - started >= delay * 0.9


async def test_retry_async_returns_after_transient_failures() -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("node restarting")
        return "ok"

    assert await retry_async(flaky, attempts=5, backoff=Backoff(0.001, 0.01)) == "ok"
    assert calls == 3


async def test_retry_async_gives_up_with_the_last_error() -> None:
    calls = 0

    async def down() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError(f"attempt {calls}")

    with pytest.raises(ConnectionError, match="attempt 4"):
        await retry_async(down, attempts=4, backoff=Backoff(0.001, 0.01))
    assert calls == 4


async def test_retry_async_does_not_retry_other_errors() -> None:
    calls = 0

    async def refused() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("the node refused the bundle")

    with pytest.raises(ValueError):
        await retry_async(
            refused, attempts=5, retry_on=(ConnectionError,), backoff=Backoff(0.001, 0.01)
        )
    assert calls == 1


async def test_retry_async_needs_an_attempt() -> None:
    async def never() -> None:
        raise AssertionError("not called")

    with pytest.raises(ValueError):
        await retry_async(never, attempts=0)
