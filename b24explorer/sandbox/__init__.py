"""A local Bitrix24 portal on loopback: seeded data, the v2 and v3 wire protocol, limits, faults.

Standard library only: it imports nothing else of b24explorer, so it judges the core independently.

    from b24explorer.sandbox import Sandbox
    with Sandbox(seed=1, deals=10_000, plan="unlimited") as sb:
        sb.webhook_url        # http://127.0.0.1:PORT/rest/1/<secret>/  (full-scope webhook of user 1)
        sb.add_webhook(user_id=1, scopes=["crm"])       # a limited webhook URL
        sb.faults.add(kind="status", method="crm.deal.get", count=1, status=503, code="QUERY_LIMIT_EXCEEDED")
        sb.counters.requests("batch"), sb.counters.calls("crm.deal.get"), sb.counters.writes()
        sb.store.deals.ids, sb.store.deals.rows[1]     # the data, as a v2 portal returns it
        sb.reset()                                     # faults, counters, limits, idempotency records

Routes: v2 `/rest/<uid>/<secret>/<method>[.json][/]` (GET query, JSON, form or multipart body, PHP bracket keys
literal or percent-encoded); v3 `/rest/api/<uid>/<secret>/<method>` (JSON body only); app-style
`/rest/<method>` and `/rest/api/<method>` with `auth=<token>` (a webhook's secret serves as its user's token);
the control API
`/_sandbox/<secret>/faults` (POST a fault object or a list of them, GET, DELETE), `…/counters` (GET, DELETE)
and `…/reset` (POST), where <secret> is the main webhook's.

Knobs beyond the contract:
- `plan`: "standard" (2 req/s over a 50 burst), "enterprise" (5/s over 250), "unlimited" (no rate limit).
- `operating_limit`: seconds of simulated operating time per method per webhook in ten one-minute buckets
  before 429 OPERATION_TIME_LIMIT; "plan" = 480 s on standard/enterprise and none on unlimited; None = off.
  Each method has a simulated cost (lists 0.05 s, writes 0.05 s, gets 0.01 s, system calls less).
- `clock`: a callable returning unix time, so tests move time instead of sleeping.
- `page_size`: v2 list page size (50 on a real portal). Anything else breaks fidelity on purpose, for
  big-answer benchmarks: `Sandbox(deals=100_000, page_size=100_000)` answers one crm.deal.list with every deal
  (about 950 bytes a deal with all documented fields, 240 with ten selected fields).
- `max_body_bytes`: bodies above it get 413 (16 MiB by default).
- counts of the other seeded tables: `leads`, `contacts`, `companies`, `tasks`, `events`.

Change data through the API or `Table.insert/update/delete` (rows' JSON is cached until they change).
Fault SPEC syntax for `b24x sandbox --fault`: see `faults.SPEC_HELP`.
"""

from .faults import Fault, Faults
from .server import Sandbox, check_loopback

__all__ = ["Fault", "Faults", "Sandbox", "check_loopback"]
