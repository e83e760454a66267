"""Schemathesis's data-acceptance checks, read as a Vivoldi client reads an answer.

Vivoldi answers a request it understood and refuses with HTTP 200 and a non-zero `code`
(clients test `code` in their success handler). Schemathesis's `positive_data_acceptance`
and `negative_data_rejection` look only at the HTTP status, so this module puts, under
the same names, the same built-in checks given the status a Vivoldi client sees: `code`
when the HTTP status is 200 and `code` is not 0. Every other answer reaches the built-in
checks unchanged.

Loaded by `st` through SCHEMATHESIS_HOOKS."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any, cast

from schemathesis.checks import CHECKS, load_all_checks

VIVOLDI = "vivoldi"
load_all_checks()
# Both built-ins are plain functions (ctx, response, case).
_POSITIVE = cast("Callable[..., Any]", CHECKS.get_one("positive_data_acceptance"))
_NEGATIVE = cast("Callable[..., Any]", CHECKS.get_one("negative_data_rejection"))


def as_client_sees(response: Any, case: Any) -> Any:
    """A Vivoldi response with its status replaced by a refusal's `code`."""
    if VIVOLDI not in (case.operation.tags or []) or response.status_code != 200:
        return response
    try:
        code = json.loads(response.content).get("code")
    except (ValueError, AttributeError):
        return response
    if not isinstance(code, int) or code == 0:
        return response
    seen = copy.copy(response)
    seen.status_code = code
    return seen


def positive_data_acceptance(ctx: Any, response: Any, case: Any) -> Any:
    return _POSITIVE(ctx, as_client_sees(response, case), case)


def negative_data_rejection(ctx: Any, response: Any, case: Any) -> Any:
    return _NEGATIVE(ctx, as_client_sees(response, case), case)


# Registered under the built-ins' names, so they take the built-ins' place.
CHECKS.register(positive_data_acceptance)
CHECKS.register(negative_data_rejection)
