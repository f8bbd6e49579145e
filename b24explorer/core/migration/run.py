"""Sending a v2 call and its v3 form through the client, and matching the two answers.

What the window's migration step and `b24x migrate` share. A write (`tasks.task.add`, …) is not sent over v2
here: run twice it would act twice; pass the v2 answer already at hand instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import SdkError
from .compare import FieldRow, compare_answers
from .pairs import pair_for
from .schema import SchemaSet
from .translate import NoV3Twin, Translation, translate

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..client import B24Client
    from ..outcome import RequestOutcome
    from ..result import AjaxResult


@dataclass(frozen=True)
class Sent:
    """One side of the comparison: the params sent and what came back (a result, or the error raised)."""

    api: int
    params: Any
    result: AjaxResult | None
    raised: SdkError | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.is_success

    @property
    def error(self) -> SdkError | None:
        return self.raised if self.result is None else self.result.error


@dataclass(frozen=True)
class MigrationRun:
    translation: Translation
    v2: Sent | None  # None: not sent (a write without a v2 answer given)
    v3: Sent | None  # None: not sent (the params did not translate)
    rows: tuple[FieldRow, ...]  # empty unless both answers came back

    @property
    def exit_code(self) -> int:
        """0 both calls succeeded, 1 a call failed, 2 the params cannot be translated (nothing sent over v3)."""
        if self.v3 is None:
            return 2
        if not self.v3.ok or (self.v2 is not None and not self.v2.ok):
            return 1
        return 0


async def schemas_of(client: B24Client) -> SchemaSet:
    """The v3 schemas of the client's portal (its OpenAPI document, from the look-up the v3 warning uses)."""
    return SchemaSet(await client.v3_openapi())


async def run_migration(client: B24Client, method: str, v2_params: Any, *, v2_result: AjaxResult | None = None,
                        schemas: SchemaSet | None = None, send_partial: bool = False) -> MigrationRun:
    """Translates, sends the v3 form (and the v2 call unless its answer is given or it writes), compares.

    With problems in the translation nothing goes over v3 unless `send_partial` (then what did translate goes).
    Raises `NoV3Twin` for a method without a translation rule.
    """
    pair = pair_for(method)
    if pair is None:
        raise NoV3Twin(f"{method} has no REST v3 translation rule")
    translation = translate(method, v2_params, schemas or await schemas_of(client))
    v2: Sent | None = None
    if v2_result is not None:
        v2 = Sent(2, v2_params, v2_result)
    elif not pair.kind.writes:
        v2 = await _send(client, pair.method, v2_params, 2)
    v3 = await _send(client, pair.method, translation.params, 3) if translation.clean or send_partial else None
    rows: tuple[FieldRow, ...] = ()
    if v2 is not None and v3 is not None and v2.ok and v3.ok:
        assert v2.result is not None
        assert v3.result is not None
        rows = tuple(compare_answers(pair.method, v2.result.result, v3.result.result))
    return MigrationRun(translation, v2, v3, rows)


def outcomes_of(run: MigrationRun, new_outcome: Callable[[int, Any, str | None], RequestOutcome], *,
                v2_given: bool = False) -> list[RequestOutcome]:
    """The calls this run sent, as outcomes for the history (v2 first); `v2_given`: its v2 answer was at hand
    (already recorded), so only the v3 call is new. `new_outcome(api, params, request_id)` makes each one."""
    sides = ([] if v2_given else [run.v2]) + [run.v3]
    outcomes = []
    for sent in sides:
        if sent is None:
            continue
        outcome = new_outcome(sent.api, sent.params, sent.result.request_id if sent.result is not None else None)
        if sent.result is not None:
            outcome.answered(sent.result, sent.result.elapsed)
        elif sent.raised is not None:
            outcome.failed(sent.raised, 0.0)
        outcomes.append(outcome)
    return outcomes


async def _send(client: B24Client, method: str, params: Any, api: int) -> Sent:
    try:
        return Sent(api, params, await client.call(method, params, api=api))
    except SdkError as exc:
        return Sent(api, params, None, exc)
