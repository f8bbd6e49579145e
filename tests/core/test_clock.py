import asyncio

import pytest

from b24explorer.core.clock import Clock, FakeClock, SystemClock


async def test_fake_clock_sleep_advances_both_clocks_and_records() -> None:
    clock = FakeClock()
    mono, wall = clock.monotonic(), clock.time()
    await clock.sleep(1.5)
    await clock.sleep(0.25)
    assert clock.sleeps == [1.5, 0.25]
    assert clock.monotonic() - mono == pytest.approx(1.75)
    assert clock.time() - wall == pytest.approx(1.75)
    assert clock.slept == pytest.approx(1.75)


async def test_fake_clock_advance_does_not_count_as_sleep() -> None:
    clock = FakeClock()
    start = clock.monotonic()
    clock.advance(10)
    assert clock.monotonic() - start == 10
    assert clock.sleeps == []
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


async def test_fake_clock_sleep_lets_other_tasks_run() -> None:
    clock = FakeClock()
    order: list[str] = []

    async def worker(name: str) -> None:
        order.append(f"{name} start")
        await clock.sleep(1)
        order.append(f"{name} end")

    await asyncio.gather(worker("a"), worker("b"))
    assert order == ["a start", "b start", "a end", "b end"]


async def test_system_clock_is_a_clock() -> None:
    clock = SystemClock()
    assert isinstance(clock, Clock)
    assert isinstance(FakeClock(), Clock)
    before = clock.monotonic()
    await clock.sleep(0)
    assert clock.monotonic() >= before
    assert clock.time() > 1_600_000_000
