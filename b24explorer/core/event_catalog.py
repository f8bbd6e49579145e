"""The events the Events panel offers to bind, each with its page in the REST docs.

The reference catalog lists methods only, so this list is taken from the docs' event pages: the add, update and
delete events of the objects whose get call the explorer can open (deals, leads, contacts, companies, tasks —
see :func:`core.events.object_call`), plus ONOFFLINEEVENT, the portal's hint that the offline queue has records.
Any other documented event name can still be typed in.
"""

from __future__ import annotations

from dataclasses import dataclass

from .hints import doc_url

OFFLINE_HINT = "ONOFFLINEEVENT"
DOC_OFFLINE_EVENTS = "api-reference/events/offline-events.md"
DOC_EVENTS = "api-reference/events/index.md"


@dataclass(frozen=True)
class EventRef:
    name: str
    doc: str  # the docs path of its page

    @property
    def url(self) -> str:
        return doc_url(self.doc)


def _crm(kind: str, folder: str) -> list[EventRef]:
    return [EventRef(f"ONCRM{kind.upper()}{verb.upper()}", f"api-reference/crm/{folder}/events/on-crm-{kind}-{verb}.md")
            for verb in ("add", "update", "delete")]


EVENTS: tuple[EventRef, ...] = (
    *_crm("deal", "deals"), *_crm("lead", "leads"), *_crm("contact", "contacts"), *_crm("company", "companies"),
    *(EventRef(f"ONTASK{verb.upper()}", f"api-reference/tasks/events-tasks/on-task-{verb}.md")
      for verb in ("add", "update", "delete")),
)

HINT = EventRef(OFFLINE_HINT, "api-reference/events/on-offline-event.md")


def event_ref(name: str) -> EventRef | None:
    wanted = name.strip().upper()
    return next((e for e in (*EVENTS, HINT) if e.name == wanted), None)


def offline_events_url() -> str:
    return doc_url(DOC_OFFLINE_EVENTS)


def is_event_name(name: str) -> bool:
    """ONCRMDEALADD, OnTaskUpdate, …: letters, digits and underscores, starting with ON."""
    text = name.strip().upper()
    return len(text) > 2 and text.startswith("ON") and text.replace("_", "").isalnum()
