"""Creating an export's links in batches through the bulk link use case: what the
`kurz import` command and the console's CSV import both run. Every refused row is
reported with where it came from; the rows that were fine are written (or, in a dry run,
only checked)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kurz_management.core.auth import Principal
from kurz_management.core.context import AppContext
from kurz_management.core.links import service
from kurz_management.core.links.model import LinkRecord
from kurz_management.importer.formats import Row


@dataclass
class Outcome:
    done: int = 0  # rows imported (or, in a dry run, that would be)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (where, why), in file order
    created: list[LinkRecord] = field(default_factory=list)


async def import_rows(
    ctx: AppContext,
    principal: Principal,
    rows: list[Row],
    *,
    dry_run: bool,
    domain: str | None = None,
    advance: Callable[[int], None] = lambda n: None,
) -> Outcome:
    """Raises LinkError when a whole batch is refused (e.g. the database is away)."""
    outcome = Outcome(refused=[(r.where, r.error or "") for r in rows if r.spec is None])
    good = [r for r in rows if r.spec is not None]
    for r in good:
        if domain and r.spec is not None:
            r.spec.domain = domain
    batch = max(1, ctx.settings.api.bulk_max)
    for start in range(0, len(good), batch):
        chunk = good[start : start + batch]
        results = await service.bulk_upsert(
            ctx,
            principal,
            [(None, r.spec) for r in chunk if r.spec is not None],
            atomic=False,
            validate_only=dry_run,
        )
        for row, result in zip(chunk, results, strict=True):
            if isinstance(result, LinkRecord):
                outcome.done += 1
                outcome.created.append(result)
            elif dry_run and result.message == service.NOT_WRITTEN:
                outcome.done += 1  # a dry run reports rows that passed as "not written"
            else:
                where = f"{result.field}: " if result.field else ""
                outcome.refused.append((row.where, where + result.message))
        advance(len(chunk))
    outcome.refused.sort(key=lambda item: _order(item[0]))
    return outcome


def _order(where: str) -> int:
    number = where.rsplit(" ", 1)[-1]
    return int(number) if number.isdecimal() else 0
