"""Limits and retries: the JS SDK's numbers (reference §4.1–4.5) on a fake clock, plus the non-idempotent rule."""

from __future__ import annotations

import asyncio
import random
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b24explorer.core.clock import FakeClock
from b24explorer.core.limits import (
    HARD_CODES,
    SOFT_CODES,
    AdaptiveDelayer,
    Failure,
    LimitsConfig,
    OperatingLimiter,
    RateLimiter,
    RestrictionManager,
    command_method,
    is_non_idempotent,
)

# ------------------------------------------------------------------------------------------------ helpers


class LogSink:
    def __init__(self) -> None:
        self.records: list[tuple[str, str, str, dict[str, Any]]] = []

    def __call__(self, level: str, code: str, message: str, context: dict[str, Any]) -> None:
        self.records.append((level, code, message, context))

    def messages(self) -> list[str]:
        return [r[2] for r in self.records]

    def find(self, text: str) -> list[tuple[str, str, str, dict[str, Any]]]:
        return [r for r in self.records if text in r[2]]


def manager(
    config: LimitsConfig | None = None, *, seed: int = 7
) -> tuple[RestrictionManager, FakeClock, LogSink]:
    clock = FakeClock()
    log = LogSink()
    return RestrictionManager(config or LimitsConfig(), clock, log, rng=random.Random(seed)), clock, log


def jitter_factor(seed: int, draws: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(-1, 1) for _ in range(draws)]


async def run_call(
    rm: RestrictionManager,
    clock: FakeClock,
    method: str,
    outcomes: list[Failure | dict[str, Any] | None],
    *,
    batch_methods: tuple[str, ...] = (),
) -> tuple[int, list[Any]]:
    """What the HTTP client does: before each attempt ask the limits, then report; sleep the decided wait.

    `outcomes[i]` is the result of attempt i: a Failure, or a time block (dict / None) for a success.
    Returns (attempts made, decisions).
    """
    decisions: list[Any] = []
    for attempt in range(rm.config.max_retries):
        await rm.before_attempt(method, batch_methods)
        outcome = outcomes[attempt]
        if not isinstance(outcome, Failure):
            rm.on_success(method, outcome)
            return attempt + 1, decisions
        decision = rm.decide(method, outcome, attempt, batch_methods=batch_methods)
        decisions.append(decision)
        if not decision.retry:
            return attempt + 1, decisions
        await clock.sleep(decision.wait)
    raise AssertionError("the last attempt must not ask for a retry")


RATE_503 = Failure(503, "QUERY_LIMIT_EXCEEDED", "Too many requests", "http")
OPERATING_429 = Failure(429, "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.", "http")
SERVER_500 = Failure(500, "ERR_BAD_RESPONSE", "Request failed with status code 500", "http")
BAD_GATEWAY = Failure(502, "ERR_BAD_RESPONSE", "<html>502 Bad Gateway</html>", "http")
TIMEOUT = Failure(408, "REQUEST_TIMEOUT", "Request timeout exceeded", "timeout")
DROPPED = Failure(0, "NETWORK_ERROR", "Network connection failed", "network_after_send")
REFUSED = Failure(0, "NETWORK_ERROR", "Network connection failed", "network_before_send")


# ------------------------------------------------------------------------------------------------ config


def test_defaults_are_the_sdk_defaults() -> None:
    c = LimitsConfig()
    assert (c.burst, c.drain_rate, c.adaptive_enabled) == (50, 2.0, True)
    assert (c.operating_window, c.operating_limit, c.heavy_percent) == (600, 480, 80)
    assert (c.adaptive_delay_enabled, c.adaptive_threshold_percent) == (True, 80)
    assert (c.adaptive_coefficient, c.adaptive_max_delay) == (0.01, 7.0)
    assert (c.max_retries, c.retry_delay, c.retry_on_network_error) == (3, 1.0, True)
    assert c.proactive is True
    assert LimitsConfig.standard() == c


def test_presets() -> None:
    e = LimitsConfig.enterprise()
    assert (e.burst, e.drain_rate, e.max_retries) == (250, 5, 3)
    b = LimitsConfig.batch_processing()
    assert (b.burst, b.drain_rate, b.heavy_percent) == (30, 1, 50)
    assert (b.adaptive_threshold_percent, b.adaptive_coefficient, b.adaptive_max_delay) == (50, 0.015, 10.0)
    assert b.max_retries == 5
    r = LimitsConfig.realtime()
    assert (r.adaptive_delay_enabled, r.adaptive_threshold_percent) == (False, 100)
    assert (r.adaptive_coefficient, r.adaptive_max_delay, r.max_retries) == (0.001, 480.0, 1)
    assert LimitsConfig.unlimited().proactive is False


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        ("enterprise", LimitsConfig.enterprise()),
        ("Enterprise", LimitsConfig.enterprise()),
        ("company", LimitsConfig()),
        ("basic", LimitsConfig()),
        ("some-future-plan", LimitsConfig()),
        ("", LimitsConfig()),
        ("unlimited", LimitsConfig.unlimited()),
        ("batch-processing", LimitsConfig.batch_processing()),
        ("realtime", LimitsConfig.realtime()),
    ],
)
def test_from_plan(plan: str, expected: LimitsConfig) -> None:
    assert LimitsConfig.from_plan(plan) == expected


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"burst": 0}, "burst"),
        ({"drain_rate": 0}, "drain_rate"),
        ({"max_retries": 0}, "max_retries"),
        ({"retry_delay": -1}, "retry_delay"),
        ({"operating_limit": 0}, "operating_limit"),
    ],
)
def test_invalid_config_is_a_clear_error(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LimitsConfig(**changes)


def test_builtin_code_lists_are_verbatim() -> None:
    listed = """ERR_BAD_REQUEST, JSSDK_UNKNOWN_ERROR, 100, INTERNAL_SERVER_ERROR, ERROR_UNEXPECTED_ANSWER, PORTAL_DELETED,
        ERROR_BATCH_METHOD_NOT_ALLOWED, ERROR_BATCH_LENGTH_EXCEEDED, NO_AUTH_FOUND, INVALID_REQUEST, OVERLOAD_LIMIT,
        expired_token, invalid_token, ACCESS_DENIED, INVALID_CREDENTIALS, user_access_error, insufficient_scope,
        ERROR_MANIFEST_IS_NOT_AVAILABLE, allowed_only_intranet_user, NOT_FOUND, INVALID_ARG_VALUE"""
    assert {code.strip() for code in listed.split(",")} == HARD_CODES
    assert len(HARD_CODES) == 21
    assert len(SOFT_CODES) == 10
    assert "ERROR_ENTITY_NOT_FOUND" in SOFT_CODES
    prefix = "BITRIX_REST_V3_EXCEPTION_"
    for suffix in [
        "ACCESSDENIEDEXCEPTION",
        "INVALIDJSONEXCEPTION",
        "INVALIDFILTEREXCEPTION",
        "INVALIDSELECTEXCEPTION",
        "ENTITYNOTFOUNDEXCEPTION",
        "METHODNOTFOUNDEXCEPTION",
        "UNKNOWNDTOPROPERTYEXCEPTION",
        "VALIDATION_REQUESTVALIDATIONEXCEPTION",
        "VALIDATION_DTOVALIDATIONEXCEPTION",
    ]:
        assert prefix + suffix in SOFT_CODES
    assert not HARD_CODES & SOFT_CODES


def test_configured_codes_are_added_to_the_builtins() -> None:
    c = LimitsConfig(hard_codes=frozenset({"MY_HARD"}), soft_codes={"MY_SOFT"})  # type: ignore[arg-type]
    assert c.all_hard_codes == HARD_CODES | {"MY_HARD"}
    assert c.all_soft_codes == SOFT_CODES | {"MY_SOFT"}
    assert c.is_soft_code("MY_SOFT")
    assert c.is_soft_code("ERROR_ENTITY_NOT_FOUND")
    assert not c.is_soft_code("ACCESS_DENIED")
    assert isinstance(c.soft_codes, frozenset)
    assert "NETWORK_ERROR" not in c.all_hard_codes
    off = LimitsConfig(retry_on_network_error=False)
    assert {"NETWORK_ERROR", "REQUEST_TIMEOUT"} <= off.all_hard_codes


# ------------------------------------------------------------------------------------------- idempotency


@pytest.mark.parametrize(
    "method",
    [
        "crm.deal.add",
        "crm.deal.update",
        "crm.deal.delete",
        "user.option.set",
        "im.notify.system.add",
        "crm.documentgenerator.document.add",
        "tasks.task.file.attach",
        "humanresources.node.member.move",
        "humanresources.node.member.remove",
        "humanresources.node.communication.edit",
        "note.collection.archive",
        "task.item.complete",
        "tasks.task.start",
        "bizproc.workflow.start",
        "mail.message.send",
        "tasks.task.chat.message.send",
        "crm.item.productrow.set",
        "imbot.message.add",
        "some.unknown.method",
        "CRM.DEAL.ADD",
    ],
)
def test_methods_that_change_state_are_non_idempotent(method: str) -> None:
    assert is_non_idempotent(method)


@pytest.mark.parametrize(
    "method",
    [
        "crm.deal.list",
        "crm.deal.get",
        "crm.deal.fields",
        "crm.item.list",
        "main.eventlog.tail",
        "user.search",
        "humanresources.employee.count",
        "humanresources.node.children",
        "tasks.task.field.list",
        "tasks.task.access.get",
        "server.time",
        "profile",
        "scope",
        "methods",
        "method.get",
        "user.current",
        "disk.folder.getchildren",
        "task.commentitem.getlist",
        "crm.enum.ownertype",
        "crm.duplicate.findbycomm",
        "mail.message.thread",
        "mail.recipient.listcontacts",
        "rest.documentation.openapi",
        "CRM.Deal.List",
    ],
)
def test_read_only_methods_are_idempotent(method: str) -> None:
    assert not is_non_idempotent(method)


def test_batch_is_non_idempotent_if_any_command_is() -> None:
    assert not is_non_idempotent("batch", ["crm.deal.list", "crm.deal.get", "user.current"])
    assert is_non_idempotent("batch", ["crm.deal.list", "crm.deal.add"])
    assert is_non_idempotent("batch")  # commands unknown: assume the worst


def test_unknown_failure_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown failure kind 'dns'"):
        Failure(0, "X", "", "dns")


def test_command_method() -> None:
    assert command_method("crm.deal.list?filter%5B%3EID%5D=0&select%5B0%5D=ID") == "crm.deal.list"
    assert command_method("server.time") == "server.time"


# ---------------------------------------------------------------------------------------------- the bucket


async def test_burst_of_50_then_one_call_per_half_second() -> None:
    clock = FakeClock()
    bucket = RateLimiter(50, 2, clock)
    waited = [await bucket.acquire() for _ in range(60)]
    assert waited[:50] == [0.0] * 50
    assert waited[50:] == [pytest.approx(0.5)] * 10
    assert clock.sleeps == [0.5] * 10


async def test_enterprise_bucket_250_then_five_per_second() -> None:
    clock = FakeClock()
    cfg = LimitsConfig.enterprise()
    bucket = RateLimiter(cfg.burst, cfg.drain_rate, clock)
    for _ in range(250):
        assert await bucket.acquire() == 0.0
    for _ in range(5):
        await bucket.acquire()
    assert clock.sleeps == [0.2] * 5  # no rounding crumbs (an extra 1 ms sleep) from float arithmetic


async def test_bucket_refills_with_time_and_is_capped_at_burst() -> None:
    clock = FakeClock()
    bucket = RateLimiter(50, 2, clock)
    for _ in range(50):
        await bucket.acquire()
    clock.advance(10)  # 20 tokens back
    for _ in range(20):
        assert await bucket.acquire() == 0.0
    assert await bucket.acquire() == pytest.approx(0.5)
    clock.advance(3600)
    assert bucket.state()["tokens"] == 0  # refilled lazily on the next check …
    for _ in range(50):
        assert await bucket.acquire() == 0.0  # … and never above the burst
    assert await bucket.acquire() == pytest.approx(0.5)


async def test_wait_is_rounded_up_to_whole_milliseconds() -> None:
    clock = FakeClock()
    bucket = RateLimiter(1, 3, clock)  # one token every 333.33… ms
    await bucket.acquire()
    await bucket.acquire()
    assert clock.sleeps == [0.334]


async def test_limit_exceeded_empties_the_bucket() -> None:
    clock = FakeClock()
    bucket = RateLimiter(50, 2, clock)
    assert bucket.on_limit_exceeded() == pytest.approx(1.5)
    assert bucket.tokens == 0
    assert await bucket.acquire() == pytest.approx(0.5)


async def test_concurrent_acquirers_are_served_in_arrival_order() -> None:
    clock = FakeClock()
    bucket = RateLimiter(5, 2, clock)
    finished: list[int] = []

    async def caller(i: int) -> None:
        await bucket.acquire()
        finished.append(i)

    tasks = [asyncio.create_task(caller(i)) for i in range(12)]
    await asyncio.sleep(0)
    assert bucket.state()["pending"] > 0
    await asyncio.gather(*tasks)
    assert finished == list(range(12))
    assert clock.sleeps == [0.5] * 7
    assert bucket.state()["pending"] == 0


def test_a_limiter_survives_a_new_event_loop() -> None:
    clock = FakeClock()
    bucket = RateLimiter(1, 2, clock)

    async def contended() -> None:
        await asyncio.gather(bucket.acquire(), bucket.acquire(), bucket.acquire())

    asyncio.run(contended())
    asyncio.run(contended())  # a second script run with the same client
    assert clock.sleeps == [0.5] * 5


async def test_disabled_bucket_never_waits() -> None:
    clock = FakeClock()
    bucket = RateLimiter(5, 2, clock, enabled=False)
    for _ in range(100):
        assert await bucket.acquire() == 0.0
    assert clock.sleeps == []


# ------------------------------------------------------------------------------------ adaptive bucket


def test_five_errors_within_60s_lower_the_limits() -> None:
    clock = FakeClock()
    log = LogSink()
    bucket = RateLimiter(50, 2, clock, log=log)
    for _ in range(4):
        bucket.on_limit_exceeded()
        clock.advance(10)
    assert (bucket.burst, bucket.drain_rate) == (50, 2)
    assert bucket.on_limit_exceeded() == pytest.approx(1 / 1.6 + 1)  # the wait already uses the lowered rate
    assert (bucket.burst, bucket.drain_rate) == (40, 1.6)
    assert bucket.state()["recent_errors"] == 0  # histories cleared after lowering
    assert log.find("rateLimiter is lowering limits due to frequent errors")[0][0] == "warning"
    for _ in range(5):
        bucket.on_limit_exceeded()
    assert (bucket.burst, bucket.drain_rate) == (32, 1.28)
    for _ in range(5):
        bucket.on_limit_exceeded()
    assert (bucket.burst, bucket.drain_rate) == (25.6, 1.02)


def test_lowering_stops_at_the_floors() -> None:
    bucket = RateLimiter(50, 2, FakeClock())
    for _ in range(5 * 40):
        bucket.on_limit_exceeded()
    assert (bucket.burst, bucket.drain_rate) == (5, 0.5)


def test_errors_older_than_60s_do_not_count() -> None:
    clock = FakeClock()
    bucket = RateLimiter(50, 2, clock)
    for _ in range(10):
        bucket.on_limit_exceeded()
        clock.advance(20)  # never more than 3 errors inside one 60 s window
    assert (bucket.burst, bucket.drain_rate) == (50, 2)


def test_adaptive_off_never_lowers() -> None:
    bucket = RateLimiter(50, 2, FakeClock(), adaptive=False)
    for _ in range(20):
        bucket.on_limit_exceeded()
    assert (bucket.burst, bucket.drain_rate) == (50, 2)


def test_twenty_successes_restore_the_limits_stepwise() -> None:
    clock = FakeClock()
    log = LogSink()
    bucket = RateLimiter(50, 2, clock, log=log)
    for _ in range(5):
        bucket.on_limit_exceeded()
    assert (bucket.burst, bucket.drain_rate) == (40, 1.6)
    for _ in range(19):
        bucket.on_success()
    assert (bucket.burst, bucket.drain_rate) == (40, 1.6)
    bucket.on_success()
    assert (bucket.burst, bucket.drain_rate) == (44, 1.76)
    assert log.find("rateLimiter increases limits during stable operation")
    for _ in range(20):
        bucket.on_success()
    assert (bucket.burst, bucket.drain_rate) == (48.4, 1.94)
    for _ in range(20):
        bucket.on_success()
    assert (bucket.burst, bucket.drain_rate) == (50, 2)  # capped at the configured numbers
    for _ in range(40):
        bucket.on_success()
    assert len(log.find("increases limits")) == 3


@pytest.mark.parametrize(("errors", "restored"), [(2, True), (3, False)])
def test_restore_needs_fewer_than_two_and_a_half_recent_errors(errors: int, restored: bool) -> None:
    clock = FakeClock()
    bucket = RateLimiter(50, 2, clock)
    for _ in range(5):
        bucket.on_limit_exceeded()
    for _ in range(errors):
        bucket.on_limit_exceeded()
    for _ in range(20):
        bucket.on_success()
    assert (bucket.drain_rate > 1.6) is restored
    if not restored:
        clock.advance(61)  # the errors age out; the next success restores
        bucket.on_success()
        assert bucket.drain_rate == 1.76


def test_an_error_clears_the_success_streak() -> None:
    bucket = RateLimiter(50, 2, FakeClock())
    for _ in range(5):
        bucket.on_limit_exceeded()
    for _ in range(19):
        bucket.on_success()
    bucket.on_limit_exceeded()
    for _ in range(19):
        bucket.on_success()
    assert bucket.drain_rate == 1.6


async def test_reset_restores_configuration_and_a_full_bucket() -> None:
    clock = FakeClock()
    bucket = RateLimiter(50, 2, clock)
    for _ in range(5):
        bucket.on_limit_exceeded()
    bucket.reset()
    assert (bucket.burst, bucket.drain_rate, bucket.tokens) == (50, 2, 50)


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0, max_value=2, allow_nan=False), min_size=1, max_size=150),
    preset=st.sampled_from(["standard", "enterprise", "batch_processing"]),
)
def test_no_window_lets_through_more_than_burst_plus_drain_times_t(gaps: list[float], preset: str) -> None:
    cfg = LimitsConfig.from_plan(preset)
    clock = FakeClock()
    bucket = RateLimiter(cfg.burst, cfg.drain_rate, clock)
    granted: list[float] = []

    async def scenario() -> None:
        for gap in gaps:
            clock.advance(gap)
            await bucket.acquire()
            granted.append(clock.monotonic())

    asyncio.run(scenario())
    for i in range(len(granted)):
        for j in range(i, len(granted)):
            window = granted[j] - granted[i]
            assert j - i + 1 <= cfg.burst + cfg.drain_rate * window + 1e-6


@settings(max_examples=30, deadline=None)
@given(
    callers=st.integers(min_value=1, max_value=120),
    burst=st.integers(1, 60),
    drain=st.sampled_from([1, 2, 5]),
)
def test_concurrent_callers_all_get_through_no_faster_than_the_rate(
    callers: int, burst: int, drain: int
) -> None:
    clock = FakeClock()
    bucket = RateLimiter(burst, drain, clock)
    start = clock.monotonic()

    async def scenario() -> None:
        await asyncio.gather(*(bucket.acquire() for _ in range(callers)))

    asyncio.run(scenario())
    elapsed = clock.monotonic() - start
    expected = max(0, callers - burst) / drain
    assert elapsed == pytest.approx(expected, abs=0.002 * callers)
    assert elapsed >= expected - 1e-9


# ------------------------------------------------------------------------------------ operating limiter


def test_operating_blocks_at_475_seconds_until_reset_plus_one() -> None:
    clock = FakeClock()
    op = OperatingLimiter(clock)
    op.update("crm.deal.list", 474.99, clock.time() + 120)
    assert op.time_to_free("crm.deal.list") == 0
    op.update("crm.deal.list", 475, clock.time() + 120)
    assert op.time_to_free("crm.deal.list") == pytest.approx(121)
    clock.advance(100)
    assert op.time_to_free("crm.deal.list") == pytest.approx(21)
    clock.advance(30)  # reset time passed, no newer numbers: 5 s
    assert op.time_to_free("crm.deal.list") == 5
    assert op.time_to_free("crm.deal.get") == 0


def test_operating_limit_with_a_custom_budget() -> None:
    clock = FakeClock()
    op = OperatingLimiter(clock, limit=100)
    op.update("m", 95, clock.time() + 10)
    assert op.time_to_free("m") == pytest.approx(11)
    tiny = OperatingLimiter(clock, limit=3)  # the threshold never goes below 1 s
    tiny.update("m", 0.99, clock.time() + 10)
    assert tiny.time_to_free("m") == 0
    tiny.update("m", 1, clock.time() + 10)
    assert tiny.time_to_free("m") == pytest.approx(11)


def test_operating_ignores_missing_counters_and_keeps_the_last_reset_time() -> None:
    clock = FakeClock()
    op = OperatingLimiter(clock)
    op.update("m", None, clock.time() + 50)
    assert op.state()["operating_stats"] == {}
    op.update("m", 478, clock.time() + 50)
    op.update("m", 479, None)
    assert op.time_to_free("m") == pytest.approx(51)
    op.update("m", "not a number", None)  # type: ignore[arg-type]
    assert op.state()["operating_stats"] == {"m": 479}


def test_operating_numbers_expire_after_the_window_plus_10s() -> None:
    clock = FakeClock()
    op = OperatingLimiter(clock)
    op.update("m", 479, clock.time() + 1000)
    clock.advance(610)
    assert op.time_to_free("m") > 0
    clock.advance(0.5)
    assert op.time_to_free("m") == 0
    assert op.state()["operating_stats"] == {}


def test_heavy_requests_are_counted_above_80_percent() -> None:
    clock = FakeClock()
    log = LogSink()
    op = OperatingLimiter(clock, log=log)
    op.update("m", 384, clock.time() + 60)
    assert op.heavy_request_count == 0
    op.update("m", 384.5, clock.time() + 60)
    assert op.heavy_request_count == 1
    assert log.find("operatingLimiter detected limit for method m")


def test_a_batch_waits_for_batch_itself_not_for_its_commands() -> None:
    clock = FakeClock()
    op = OperatingLimiter(clock)
    now = clock.time()
    op.update("crm.deal.list", 479, now + 30)  # a direct call's budget: a batch of it is billed elsewhere
    assert op.time_to_free("batch", ["crm.deal.list"]) == 0
    op.update("batch", 476, now + 90)
    assert op.time_to_free("batch", ["user.get"]) == pytest.approx(91)
    assert op.time_to_free("batch") == pytest.approx(91)
    assert op.time_to_free("crm.deal.list") == pytest.approx(31)


def test_method_names_are_case_insensitive() -> None:
    clock = FakeClock()
    op = OperatingLimiter(clock)
    op.update("CRM.Deal.List", 479, clock.time() + 10)
    assert op.time_to_free("crm.deal.list") == pytest.approx(11)


# -------------------------------------------------------------------------------------- adaptive delayer


def delayer(**kwargs: Any) -> tuple[AdaptiveDelayer, OperatingLimiter, FakeClock]:
    clock = FakeClock()
    op = OperatingLimiter(clock)
    return AdaptiveDelayer(op, clock, **kwargs), op, clock


def test_adaptive_delay_is_one_percent_of_the_time_to_reset() -> None:
    d, op, clock = delayer()
    op.update("m", 400, clock.time() + 300)
    assert d.delay("m") == pytest.approx(3.0)
    op.update("m", 400, clock.time() + 123.4567)
    assert d.delay("m") == 1.234  # whole milliseconds, rounded down
    op.update("m", 400, clock.time() + 1000)
    assert d.delay("m") == 7.0  # capped at max_delay
    op.update("m", 400, clock.time() - 1)
    assert d.delay("m") == 7.0  # reset time passed: 7 s
    assert d.state() == {
        "adaptive_delays": 4,
        "total_adaptive_delay": 18.234,
        "adaptive_delay_avg": pytest.approx(4.5585, abs=0.001),
    }


def test_adaptive_delay_only_above_the_threshold() -> None:
    d, op, clock = delayer()
    op.update("m", 384, clock.time() + 300)  # exactly 80 %
    assert d.delay("m") == 0
    assert d.delay("never-seen") == 0
    assert d.state()["adaptive_delays"] == 0


def test_adaptive_delay_disabled_and_batch_presets() -> None:
    d, op, clock = delayer(enabled=False)
    op.update("m", 470, clock.time() + 300)
    assert d.delay("m") == 0
    cfg = LimitsConfig.batch_processing()
    d2, op2, clock2 = delayer(
        threshold_percent=cfg.adaptive_threshold_percent,
        coefficient=cfg.adaptive_coefficient,
        max_delay=cfg.adaptive_max_delay,
    )
    op2.update("m", 250, clock2.time() + 400)  # 52 % > 50 %
    assert d2.delay("m") == pytest.approx(6.0)
    op2.update("m", 250, clock2.time() - 5)
    assert d2.delay("m") == 7.0  # the fallback is 7 s whatever the cap
    op2.update("m", 250, clock2.time() + 2000)
    assert d2.delay("m") == 10.0


def test_adaptive_delay_for_batch_is_that_of_batch() -> None:
    d, op, clock = delayer()
    op.update("crm.contact.list", 420, clock.time() + 500)
    assert d.delay("batch", ["crm.contact.list"]) == 0
    op.update("batch", 400, clock.time() + 200)
    assert d.delay("batch", ["crm.deal.list", "crm.contact.list"]) == pytest.approx(2.0)
    assert d.state()["adaptive_delays"] == 1


# ------------------------------------------------------------------------------- before each attempt


async def test_before_attempt_sleeps_the_operating_wait_and_skips_the_adaptive_delay() -> None:
    rm, clock, log = manager()
    rm.on_success("crm.deal.list", {"operating": 476, "operating_reset_at": clock.time() + 100})
    waited = await rm.before_attempt("crm.deal.list", request_id="r-1")
    assert waited == pytest.approx(101)
    assert clock.sleeps == [pytest.approx(101)]
    level, code, _message, ctx = log.find("operatingLimiter blocked method crm.deal.list")[0]
    assert (level, code) == ("notice", "OPERATING_LIMIT_BLOCKED")
    assert ctx["request_id"] == "r-1"
    assert ctx["wait"] == pytest.approx(101)
    assert rm.stats()["adaptive_delays"] == 0
    assert rm.stats()["limit_hits"] == 1


async def test_before_attempt_applies_the_adaptive_delay_below_the_block() -> None:
    rm, clock, log = manager()
    rm.on_success("crm.deal.list", {"operating": 400, "operating_reset_at": clock.time() + 250})
    assert await rm.before_attempt("crm.deal.list") == pytest.approx(2.5)
    assert clock.sleeps == [2.5]
    assert log.find("adaptiveDelayer blocked method crm.deal.list")
    assert await rm.before_attempt("crm.deal.get") == 0


async def test_before_attempt_takes_a_rate_token_and_logs_each_block() -> None:
    rm, _clock, log = manager(LimitsConfig(burst=2, drain_rate=2))
    assert await rm.before_attempt("a") == 0
    assert await rm.before_attempt("a") == 0
    assert await rm.before_attempt("a") == pytest.approx(0.5)
    assert log.find("rateLimiter blocked method a | 1 times")
    assert rm.stats()["limit_hits"] == 1


async def test_batch_before_attempt_uses_the_envelope_time() -> None:
    rm, clock, _ = manager()
    rm.on_success("crm.deal.list", {"operating": 478, "operating_reset_at": clock.time() + 40})
    assert await rm.before_attempt("batch", ["user.get", "crm.deal.list"]) == 0
    rm.on_success("batch", {"operating": 477, "operating_reset_at": clock.time() + 60})
    assert await rm.before_attempt("batch", ["user.get"]) == pytest.approx(61)


async def test_unlimited_never_waits_before_a_call() -> None:
    rm, clock, _ = manager(LimitsConfig.unlimited())
    rm.on_success("m", {"operating": 479, "operating_reset_at": clock.time() + 300})
    for _ in range(200):
        assert await rm.before_attempt("m") == 0
    assert clock.sleeps == []
    decision = rm.decide("m", RATE_503, 0)  # but a 503 from the server is still honoured
    assert (decision.retry, decision.wait) == (True, pytest.approx(1.5))


# ------------------------------------------------------------------------------- the §4.3 decision table


async def test_rate_limit_waits_1_5_then_2_25_and_the_last_attempt_does_not_sleep() -> None:
    rm, clock, log = manager()
    attempts, decisions = await run_call(rm, clock, "crm.deal.list", [RATE_503, RATE_503, RATE_503])
    assert attempts == 3
    assert [d.retry for d in decisions] == [True, True, False]
    assert [d.wait for d in decisions] == [pytest.approx(1.5), pytest.approx(2.25), 0]
    assert decisions[-1].rule == "exhausted"
    assert clock.sleeps == [pytest.approx(1.5), pytest.approx(2.25)]
    assert "http wait 1.50 sec." in log.messages()
    assert "http wait 2.25 sec." in log.messages()
    assert "http all retry attempts exhausted" in log.messages()
    assert log.find("rateLimiter recognized the QUERY_LIMIT_EXCEEDED error for the crm.deal.list method")
    stats = rm.stats()
    assert (stats["retries"], stats["limit_hits"], stats["failed_requests"]) == (2, 2, 3)
    assert stats["error_counts"] == {"crm.deal.list": 3}
    assert stats["consecutive_errors"] == 3


async def test_rate_limit_then_success() -> None:
    rm, clock, _ = manager()
    attempts, _ = await run_call(rm, clock, "crm.deal.list", [RATE_503, RATE_503, {"operating": 0.1}])
    assert attempts == 3
    assert clock.sleeps == [pytest.approx(1.5), pytest.approx(2.25)]  # the retry wait refilled the bucket
    stats = rm.stats()
    assert stats["consecutive_errors"] == 0
    assert stats["error_counts"] == {}
    assert (stats["successful_requests"], stats["failed_requests"], stats["total_requests"]) == (1, 2, 3)


def test_rate_limit_by_code_alone_and_its_side_effect_on_the_bucket() -> None:
    rm, _, _ = manager()
    decision = rm.decide("m", Failure(0, "QUERY_LIMIT_EXCEEDED", "Too many requests"), 0)
    assert (decision.retry, decision.wait, decision.rule) == (True, pytest.approx(1.5), "rate_limit")
    assert rm.stats()["rate"]["tokens"] == 0
    assert rm.stats()["rate"]["recent_errors"] == 1


def test_rate_limit_wait_follows_the_preset_rate() -> None:
    rm, _, _ = manager(LimitsConfig.enterprise())
    assert rm.decide("m", RATE_503, 0).wait == pytest.approx(1.2)
    assert rm.decide("m", RATE_503, 1).wait == pytest.approx(1.8)
    rm, _, _ = manager(LimitsConfig.batch_processing())
    waits = [rm.decide("m", RATE_503, a).wait for a in range(5)]
    assert waits[:4] == [pytest.approx(2.0), pytest.approx(3.0), pytest.approx(4.5), pytest.approx(6.75)]
    assert waits[4] == 0  # fifth attempt of five


def test_repeated_503s_lower_the_bucket_through_decide() -> None:
    rm, clock, log = manager()
    waits = []
    for _ in range(5):
        waits.append(rm.decide("m", RATE_503, 0).wait)
        clock.advance(2)
    assert waits[:4] == [pytest.approx(1.5)] * 4
    assert waits[4] == pytest.approx(1 / 1.6 + 1)
    rate = rm.stats()["rate"]
    assert (rate["burst"], rate["drain_rate"], rate["original_burst"], rate["original_drain_rate"]) == (
        40,
        1.6,
        50,
        2,
    )
    assert log.find("rateLimiter is lowering limits due to frequent errors")
    for _ in range(20):
        rm.on_success("m", {"operating": 0.1})
    assert rm.stats()["rate"]["drain_rate"] == 1.76


def test_the_last_attempt_does_not_touch_the_bucket() -> None:
    rm, _, _ = manager()
    decision = rm.decide("m", RATE_503, 2)
    assert not decision.retry
    assert rm.stats()["rate"]["tokens"] == 50


async def test_operating_limit_waits_at_least_10s() -> None:
    rm, clock, log = manager()
    decision = rm.decide("crm.deal.list", OPERATING_429, 0)
    assert (decision.retry, decision.wait, decision.rule) == (True, 10.0, "operating_limit")
    assert log.find("operatingLimiter recognized the OPERATION_TIME_LIMIT error for the crm.deal.list method")
    rm.on_success("crm.deal.list", {"operating": 478, "operating_reset_at": clock.time() + 200})
    assert rm.decide("crm.deal.list", OPERATING_429, 1).wait == pytest.approx(201)
    # the code alone is enough, and it wins over the generic 4xx rule
    assert rm.decide("x", Failure(400, "OPERATION_TIME_LIMIT", "blocked"), 0).wait == 10.0


async def test_operating_limit_for_a_batch_uses_batch_itself() -> None:
    rm, clock, _ = manager()
    rm.on_success("batch", {"operating": 477, "operating_reset_at": clock.time() + 60})
    decision = rm.decide("batch", OPERATING_429, 0, batch_methods=["crm.deal.list"])
    assert decision.wait == pytest.approx(61)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "ERROR_CORE"),
        (400, "1048582"),
        (400, "BITRIX_REST_V3_EXCEPTION_SOMETHINGNEW"),
        (401, "expired_token"),
        (403, "ACCESS_DENIED"),
        (404, "ERROR_METHOD_NOT_FOUND"),
        (404, "SOMETHING_UNKNOWN"),
        (413, "ERR_BAD_REQUEST"),
        (499, "X"),
    ],
)
def test_other_4xx_are_never_retried(status: int, code: str) -> None:
    rm, _, log = manager()
    decision = rm.decide("crm.deal.list", Failure(status, code, "bad"), 0)
    assert (decision.retry, decision.wait, decision.rule) == (False, 0, "client_error")
    expected = f"client error {status} ({code}) for the crm.deal.list method is not retryable"
    assert decision.reason == expected
    assert log.find(expected)[0][0] == "error"
    assert rm.stats()["retries"] == 0


@pytest.mark.parametrize("code", sorted(HARD_CODES))
def test_hard_codes_are_not_retried(code: str) -> None:
    rm, _, _ = manager()
    decision = rm.decide("crm.deal.list", Failure(500, code, "server says no"), 0)
    assert (decision.retry, decision.rule) == (False, "hard_code")


@pytest.mark.parametrize("code", sorted(SOFT_CODES))
def test_soft_codes_are_not_retried(code: str) -> None:
    rm, _, _ = manager()
    decision = rm.decide("crm.deal.get", Failure(500, code, "not found"), 0)
    assert (decision.retry, decision.rule) == (False, "soft_code")
    assert rm.config.is_soft_code(code)


def test_configured_codes_stop_retries() -> None:
    rm, _, _ = manager(LimitsConfig(hard_codes=frozenset({"MY_HARD"}), soft_codes=frozenset({"MY_SOFT"})))
    assert rm.decide("crm.deal.get", Failure(500, "MY_HARD", ""), 0).rule == "hard_code"
    assert rm.decide("crm.deal.get", Failure(500, "MY_SOFT", ""), 0).rule == "soft_code"
    assert rm.decide("crm.deal.get", Failure(500, "OTHER", ""), 0).retry


def test_missing_parameter_message_is_not_retried() -> None:
    rm, _, _ = manager()
    failure = Failure(500, "ERR_BAD_RESPONSE", "Could not find value for parameter {id} (internal error)")
    decision = rm.decide("crm.deal.get", failure, 0)
    assert (decision.retry, decision.rule) == (False, "missing_parameter")


async def test_5xx_backs_off_about_1s_then_2s_with_seeded_jitter() -> None:
    seed = 42
    rm, clock, log = manager(seed=seed)
    _attempts, decisions = await run_call(rm, clock, "crm.deal.list", [SERVER_500, SERVER_500, SERVER_500])
    j0, j1 = jitter_factor(seed, 2)
    assert [d.wait for d in decisions[:2]] == [pytest.approx(1 + 0.1 * j0), pytest.approx(2 + 0.2 * j1)]
    assert clock.sleeps == [d.wait for d in decisions[:2]]
    assert decisions[2].retry is False
    assert log.find("recognized the ERR_BAD_RESPONSE error for the crm.deal.list method")


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    attempt=st.integers(0, 10),
    base=st.sampled_from([0.001, 0.05, 0.5, 1.0, 2.0, 20.0, 45.0]),
)
def test_backoff_stays_within_ten_percent_and_the_cap(seed: int, attempt: int, base: float) -> None:
    rm = RestrictionManager(
        LimitsConfig(retry_delay=base, max_retries=20), FakeClock(), rng=random.Random(seed)
    )
    delay = min(max(30.0, base), base * 2**attempt)
    wait = rm.decide("crm.deal.list", SERVER_500, attempt).wait
    assert wait == pytest.approx(max(0.1, delay + delay * 0.1 * random.Random(seed).uniform(-1, 1)))
    assert max(0.1, delay * 0.9) - 1e-9 <= wait <= max(0.1, delay * 1.1) + 1e-9


def test_backoff_cap_and_floor() -> None:
    rm, _, _ = manager(LimitsConfig(retry_delay=20, max_retries=10))
    assert 27 <= rm.backoff(5) <= 33  # min(max(30, 20), 640) = 30
    rm, _, _ = manager(LimitsConfig(retry_delay=40, max_retries=10))
    assert 36 <= rm.backoff(5) <= 44  # the cap is never below the base
    rm, _, _ = manager(LimitsConfig(retry_delay=0.01))
    assert rm.backoff(0) == 0.1


def test_network_errors_and_timeouts_of_reads_are_retried() -> None:
    rm, _, _ = manager()
    for failure in (TIMEOUT, DROPPED, REFUSED, Failure(408, "REQUEST_TIMEOUT", "server 408", "http")):
        decision = rm.decide("crm.deal.list", failure, 0)
        assert (decision.retry, decision.rule) == (True, "backoff")


# ------------------------------------------------------------------------------ the non-idempotent rule


@pytest.mark.parametrize(
    "failure", [TIMEOUT, DROPPED, BAD_GATEWAY, Failure(504, "ERR_BAD_RESPONSE", "gw", "http")]
)
async def test_a_write_is_never_resent_after_an_ambiguous_failure(failure: Failure) -> None:
    rm, clock, log = manager()
    attempts, decisions = await run_call(rm, clock, "crm.deal.add", [failure, {"operating": 0}, None])
    assert attempts == 1
    decision = decisions[0]
    assert (decision.retry, decision.wait, decision.rule) == (False, 0, "not_idempotent")
    assert decision.reason == "not retried: crm.deal.add may have run on the server"
    assert log.find("not retried: crm.deal.add may have run on the server")[0][0] == "warning"
    assert clock.sleeps == []


async def test_crm_deal_list_timeout_is_retried() -> None:
    rm, clock, _ = manager()
    attempts, decisions = await run_call(rm, clock, "crm.deal.list", [TIMEOUT, {"operating": 0.2}, None])
    assert attempts == 2
    assert decisions[0].retry


@pytest.mark.parametrize(("failure", "wait"), [(RATE_503, 1.5), (OPERATING_429, 10.0)])
async def test_a_write_is_retried_after_503_and_429(failure: Failure, wait: float) -> None:
    rm, clock, _ = manager()
    attempts, decisions = await run_call(rm, clock, "crm.deal.add", [failure, {"operating": 0.2}, None])
    assert attempts == 2
    assert decisions[0].wait == pytest.approx(wait)


async def test_a_write_is_retried_when_the_request_never_left() -> None:
    rm, clock, _ = manager()
    attempts, _ = await run_call(rm, clock, "crm.deal.add", [REFUSED, REFUSED, {"operating": 0.1}])
    assert attempts == 3


def test_batch_with_a_write_is_not_resent_after_a_timeout() -> None:
    rm, _, _ = manager()
    writes = ["crm.deal.list", "crm.deal.update"]
    assert rm.decide("batch", TIMEOUT, 0, batch_methods=writes).rule == "not_idempotent"
    assert rm.decide("batch", TIMEOUT, 0, batch_methods=["crm.deal.list", "crm.deal.get"]).retry
    assert rm.decide("batch", RATE_503, 0, batch_methods=writes).retry


def test_retry_on_network_error_off() -> None:
    rm, _, _ = manager(LimitsConfig(retry_on_network_error=False))
    for failure in (TIMEOUT, DROPPED, REFUSED):
        decision = rm.decide("crm.deal.list", failure, 0)
        assert not decision.retry
        assert decision.rule == "hard_code"
    other = rm.decide("crm.deal.list", Failure(0, "SOMETHING", "socket closed", "network_before_send"), 0)
    assert (other.retry, other.rule) == (False, "network_disabled")
    assert rm.decide("crm.deal.list", SERVER_500, 0).retry  # server errors still back off
    assert rm.decide("crm.deal.list", RATE_503, 0).retry


async def test_realtime_preset_makes_one_attempt() -> None:
    rm, clock, _log = manager(LimitsConfig.realtime())
    attempts, decisions = await run_call(rm, clock, "crm.deal.list", [RATE_503])
    assert attempts == 1
    assert (decisions[0].retry, decisions[0].rule) == (False, "exhausted")
    assert decisions[0].reason == "all 1 attempt used"
    assert clock.sleeps == []
    no_retry = rm.decide("crm.deal.list", Failure(400, "ERROR_CORE", "bad"), 0)
    assert no_retry.rule == "client_error"  # the reason names the real cause, not exhaustion


# ----------------------------------------------------------------------------------- stats and reset


def test_success_feeds_operating_and_the_bucket() -> None:
    rm, clock, _ = manager()
    reset_at = clock.time() + 300
    rm.on_success(
        "batch",
        SimpleNamespace(operating=2.5, operating_reset_at=reset_at),  # a typed time object works too
        elapsed=0.25,
    )
    rm.on_success("crm.deal.get", None, elapsed=0.5)  # no time block: no stats, still a success
    rm.on_success("crm.deal.list", {"start": 1.0, "finish": 1.2}, elapsed=0.2)  # no operating: no budget
    stats = rm.stats()
    assert stats["operating_stats"] == {"batch": 2.5}
    assert stats["rate"]["recent_successes"] == 2
    assert (stats["successful_requests"], stats["total_requests"]) == (3, 3)
    assert stats["by_method"]["batch"] == {"count": 1, "total_duration": 0.25}


def test_a_missing_operating_time_breaks_nothing() -> None:
    rm, clock, _ = manager()
    rm.on_success("batch", {"duration": 0.1, "operating_reset_at": clock.time() + 10})
    assert rm.stats()["operating_stats"] == {}
    assert rm.operating.time_to_free("batch") == 0


def test_stats_shape_and_reset() -> None:
    rm, clock, _ = manager()
    rm.decide("crm.deal.list", RATE_503, 0)
    rm.decide("crm.deal.add", TIMEOUT, 0)
    rm.on_success("crm.deal.list", {"operating": 400, "operating_reset_at": clock.time() + 100})
    stats = rm.stats()
    for key in (
        "retries",
        "consecutive_errors",
        "limit_hits",
        "rate",
        "adaptive_delays",
        "total_adaptive_delay",
        "adaptive_delay_avg",
        "heavy_request_count",
        "operating_stats",
        "error_counts",
        "total_requests",
        "successful_requests",
        "failed_requests",
        "total_duration",
        "by_method",
        "last_errors",
    ):
        assert key in stats
    assert stats["error_counts"] == {"crm.deal.add": 1}
    assert stats["heavy_request_count"] == 1
    assert [e["code"] for e in stats["last_errors"]] == ["QUERY_LIMIT_EXCEEDED", "REQUEST_TIMEOUT"]
    rm.reset()
    stats = rm.stats()
    assert (stats["retries"], stats["limit_hits"], stats["total_requests"], stats["heavy_request_count"]) == (
        0,
        0,
        0,
        0,
    )
    assert stats["operating_stats"] == {}
    assert stats["last_errors"] == []
    assert stats["rate"]["tokens"] == 50


def test_last_errors_keep_the_latest_hundred() -> None:
    rm, _, _ = manager(LimitsConfig(max_retries=1))
    for i in range(130):
        rm.decide(f"m{i}", SERVER_500, 0)
    errors = rm.stats()["last_errors"]
    assert len(errors) == 100
    assert errors[0]["method"] == "m30"


async def test_set_config_keeps_budgets_and_tokens() -> None:
    rm, clock, _ = manager()
    for _ in range(45):
        await rm.before_attempt("m")
    rm.on_success("m", {"operating": 478, "operating_reset_at": clock.time() + 20})
    rm.set_config(LimitsConfig.enterprise())
    assert rm.stats()["rate"]["burst"] == 250
    assert rm.stats()["rate"]["tokens"] == pytest.approx(5)
    assert rm.operating.time_to_free("m") == pytest.approx(21)


async def test_a_broken_log_sink_never_breaks_a_call() -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("sink down")

    clock = FakeClock()
    rm = RestrictionManager(LimitsConfig(burst=1), clock, broken, rng=random.Random(1))
    await rm.before_attempt("m")
    await rm.before_attempt("m")
    assert rm.decide("m", RATE_503, 0).retry
    assert not rm.decide("crm.deal.add", TIMEOUT, 0).retry


def test_defaults_use_the_system_clock() -> None:
    rm = RestrictionManager()
    assert rm.config == LimitsConfig()
    assert type(rm.clock).__name__ == "SystemClock"
