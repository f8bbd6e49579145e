"""What `b24x methods` and `b24x doc` share: the offline reference catalog (or a clear failure without it) and
one method's facts as plain data."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

from ..core.reference import MethodRef, ParamRef, ReferenceCatalog, ReferenceCatalogError, reference_catalog
from .base import Environment, ExitStatus
from .parsing import Handler

CatalogCommand = Callable[[argparse.Namespace, Environment, ReferenceCatalog], Awaitable[ExitStatus]]


def with_catalog(command: CatalogCommand) -> Handler:
    """The command, handed the shipped catalog; without it (a broken install) the reason on stderr, status 1."""

    async def run(args: argparse.Namespace, env: Environment) -> ExitStatus:
        try:
            catalog = reference_catalog()
        except ReferenceCatalogError as exc:
            env.say(f"b24x {args.command}: {exc}")
            return ExitStatus.ERROR
        return await command(args, env, catalog)

    return run


def param_dict(param: ParamRef) -> dict[str, Any]:
    return {"name": param.name, "type": param.type, "required": param.required}


def method_dict(method: MethodRef, *, with_params: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": method.name, "api": method.api, "scopes": list(method.scopes), "app_context": method.app_context,
        "admin": method.admin, "deprecated": method.deprecated, "replacement": method.replacement,
        "twin": method.twin, "doc_url": method.doc_url,
    }
    if with_params:
        data["params"] = [{**param_dict(p), "fields": [param_dict(f) for f in method.nested(p.name)]}
                          for p in method.params]
    return data
