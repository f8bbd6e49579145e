"""From a REST v2 call to its REST v3 form: translated params, compared answers, a report from history.

`translate` turns v2 params into v3 params (reporting what has no v3 form), `compare_answers` matches a v2
answer and a v3 answer field by field, `run_migration` sends both forms through the client and compares them,
`report_for_connection` says which v2 calls in a connection's history the portal offers in v3 and whether
their params translate.
"""

from .compare import FieldRow, Match, compare_answers, same_value, v2_key_for
from .kept import KeptV3
from .pairs import PAIRS, Kind, MethodPair, ObjectNames, pair_for
from .report import MethodUsage, MigrationReport, build_report, history_entries, report_for_connection
from .run import MigrationRun, Sent, outcomes_of, run_migration, schemas_of
from .schema import BUILTIN_SCHEMAS, EntitySchema, FieldSpec, SchemaSet, from_openapi
from .translate import NoV3Twin, Problem, Translation, can_translate, translate

__all__ = [
    "BUILTIN_SCHEMAS", "PAIRS", "EntitySchema", "FieldRow", "FieldSpec", "KeptV3", "Kind", "Match", "MethodPair",
    "MethodUsage", "MigrationReport", "MigrationRun", "NoV3Twin", "ObjectNames", "Problem", "SchemaSet", "Sent",
    "Translation",
    "build_report", "can_translate", "compare_answers", "from_openapi", "history_entries", "outcomes_of",
    "pair_for", "report_for_connection", "run_migration", "same_value", "schemas_of", "translate", "v2_key_for",
]
