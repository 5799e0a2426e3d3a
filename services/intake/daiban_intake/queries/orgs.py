"""Names of org units, from intake's replica of the county's directory: what people read beside a code."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_intake.models import org_units


async def org_names(session: AsyncSession, codes: Iterable[str | None]) -> dict[str, str]:
    """The name of each of `codes` the directory has (a code it lacks is simply absent)."""
    wanted = sorted({code for code in codes if code})
    if not wanted:
        return {}
    rows = await session.exec(select(org_units.c.code, org_units.c.name).where(org_units.c.code.in_(wanted)))
    return {str(code): str(name) for code, name in rows.all()}
