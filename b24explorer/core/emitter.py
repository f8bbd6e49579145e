"""Qt-free change notices: a model says what changed, views and caches subscribe (napari's evented models, small).

An :class:`Emitter` carries one typed value to every connected callback, in the order they connected. A callback
that raises does not keep the others from hearing the event: the exception is handed to the event's
``on_error`` (the workspace logs it) and the next callback runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

Slot = Callable[[T], object]


class Emitter(Generic[T]):
    """One kind of change. ``connect`` returns the function that disconnects again (call it on close)."""

    def __init__(self, name: str, on_error: Callable[[str, BaseException], None] | None = None) -> None:
        self.name = name
        self.on_error = on_error
        self._slots: list[Slot[T]] = []

    def connect(self, slot: Slot[T]) -> Callable[[], None]:
        self._slots.append(slot)
        return lambda: self.disconnect(slot)

    def disconnect(self, slot: Slot[T]) -> None:
        if slot in self._slots:
            self._slots.remove(slot)

    def emit(self, value: T) -> None:
        for slot in list(self._slots):
            try:
                slot(value)
            except Exception as exc:  # one broken listener must not starve the others
                if self.on_error is None:
                    raise
                self.on_error(self.name, exc)

    def __len__(self) -> int:
        return len(self._slots)
