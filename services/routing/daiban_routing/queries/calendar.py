"""Reading the loaded official schedules."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_routing.models import PublishedYear


async def published_year(session: AsyncSession, year: int) -> PublishedYear | None:
    return await session.get(PublishedYear, year)
