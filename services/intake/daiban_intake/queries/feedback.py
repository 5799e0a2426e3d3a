"""Complaints as the supervisors read them."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common.auth import Principal, can_see
from daiban_common.errors import NotFound
from daiban_intake.models import Complaint


async def complaint(session: AsyncSession, principal: Principal, complaint_id: str) -> Complaint:
    """The complaint, if it concerns a unit within the caller's subtree (404 otherwise)."""
    found = await session.get(Complaint, complaint_id)
    if found is None or not can_see(principal, found.org):
        raise NotFound("投诉不存在")
    return found
