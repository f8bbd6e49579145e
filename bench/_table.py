"""The shape every benchmark reports in, and the one table `make bench` prints.

A benchmark module `bench/bench_*.py` exposes `rows() -> list[dict]`; each row is a `Row` as a dict:
the figure, its value, the reference it is compared with, the ratio value/reference, and the target for
that ratio (`at most`, or `at least` for speed-ups). Rows without a target are informative.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Row:
    figure: str
    value: float
    unit: str
    reference_name: str = ""
    reference: float | None = None
    target: float | None = None  # the ratio's bound
    higher_is_better: bool = False  # True: ratio must be at least `target`
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.reference in (None, 0):
            return None
        return self.value / self.reference  # type: ignore[operator]

    @property
    def passed(self) -> bool | None:
        ratio = self.ratio
        if self.target is None or ratio is None:
            return None
        return ratio >= self.target if self.higher_is_better else ratio <= self.target

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value * 1000:,.0f} ms" if value < 10 else f"{value:,.1f} s"
    if unit == "MB":
        return f"{value:,.1f} MB"
    if unit == "/s":
        return f"{value:,.0f}/s"
    return f"{value:,.2f} {unit}".strip()


def render(rows: list[Row]) -> str:
    header = ("figure", "value", "reference", "ratio", "target", "result")
    lines = []
    for r in rows:
        ratio = r.ratio
        target = "" if r.target is None else ("≥ " if r.higher_is_better else "≤ ") + f"{r.target:g}"
        result = {None: "info", True: "PASS", False: "FAIL"}[r.passed]
        ref = f"{r.reference_name} {fmt(r.reference, r.unit)}".strip() if r.reference is not None else r.reference_name
        lines.append((r.figure + (f" ({r.note})" if r.note else ""), fmt(r.value, r.unit), ref,
                      "—" if ratio is None else f"{ratio:.2f}", target, result))
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=False)]
    out = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=False))]
    out.append("-+-".join("-" * w for w in widths))
    out += [" | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=False)) for line in lines]
    return "\n".join(out)
