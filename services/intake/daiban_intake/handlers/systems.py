"""The registry of outside systems: register one for a township, reissue its token, revoke it.

Admins act within their own subtree; a system of another subtree is unknown to them (404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from daiban_common import clock
from daiban_common.auth import Principal, can_see, subtree_clause
from daiban_common.errors import Conflict, FieldError, InvalidInput, NotFound
from daiban_common.pagination import PageParams, after_clause, paginate
from daiban_common.uow import UnitOfWork
from daiban_contracts.ingress import INGRESS_TYPES, InvalidSystemId, check_system_id
from daiban_contracts.orgcodes import InvalidOrgCode, OrgCode
from daiban_intake.domain.ingress import Door, township_of
from daiban_intake.domain.systems import looks_like_token, new_token, token_hash
from daiban_intake.models import OutsideSystem
from daiban_intake.schemas_door import RegisterSystem

SYSTEM_NOT_FOUND = "外部系统不存在"


@dataclass(frozen=True)
class Issued:
    """A system as registered, with the token shown to the admin this once."""

    system: OutsideSystem
    token: str


def door_of(row: OutsideSystem) -> Door:
    return Door(
        system=row.system,
        township=OrgCode.parse(row.township),
        name=row.name,
        types=frozenset(row.types),
        revoked=row.revoked_at is not None,
    )


def _checked(
    command: RegisterSystem, principal: Principal, hosts: Callable[[OrgCode], bool]
) -> tuple[str, OrgCode, list[str]]:
    errors: list[FieldError] = []
    try:
        system = check_system_id(command.system)
    except InvalidSystemId as exc:
        errors.append(FieldError("system", str(exc)))
        system = command.system
    try:
        township = township_of(command.township)
    except InvalidOrgCode as exc:
        errors.append(FieldError("township", str(exc)))
        township = None
    # Its events are stored and applied by the node hosting the township (a township with a node
    # of its own registers its systems there).
    if township is not None and not (hosts(township) and can_see(principal, township)):
        errors.append(FieldError("township", "该乡镇不在您的管辖范围或不由本节点服务"))
    types = sorted(set(command.types if command.types is not None else INGRESS_TYPES))
    errors += [
        FieldError(f"types[{i}]", f"外部系统只能推送：{'、'.join(sorted(INGRESS_TYPES))}")
        for i, name in enumerate(command.types or [])
        if name not in INGRESS_TYPES
    ]
    if not types:
        errors.append(FieldError("types", "至少须允许一种事件类型"))
    if errors or township is None:
        raise InvalidInput(errors=errors)
    return system, township, types


async def register_system(
    command: RegisterSystem, *, principal: Principal, hosts: Callable[[OrgCode], bool], uow: UnitOfWork
) -> Issued:
    """A system of `command.township`, with a new HTTP token; an id is never reused."""
    system, township, types = _checked(command, principal, hosts)
    token = new_token()
    async with uow:
        if await uow.session.get(OutsideSystem, system) is not None:
            raise Conflict(
                f"外部系统标识{system}已被使用（停用的系统标识也不再复用）",
                type="/problems/system-exists",
                title="System already registered",
                errors=[FieldError("system", "标识已被使用")],
            )
        row = OutsideSystem(
            system=system,
            township=township.value,
            name=command.name,
            types=types,
            token_hash=token_hash(token),
            issued_at=clock.now(),
            issued_by=principal.sub,
        )
        uow.session.add(row)
        await uow.commit()
    return Issued(row, token)


async def _visible(session: AsyncSession, system: str, principal: Principal) -> OutsideSystem:
    row = (
        await session.exec(select(OutsideSystem).where(OutsideSystem.system == system).with_for_update())
    ).first()
    if row is None or not can_see(principal, row.township):
        raise NotFound(SYSTEM_NOT_FOUND)
    return row


async def reissue_token(system: str, *, principal: Principal, uow: UnitOfWork) -> Issued:
    """A new HTTP token for a system not revoked; the old one stops working at once."""
    token = new_token()
    async with uow:
        row = await _visible(uow.session, system, principal)
        if row.revoked_at is not None:
            raise Conflict(
                "外部系统已停用，不能再签发令牌", type="/problems/system-revoked", title="System revoked"
            )
        row.token_hash = token_hash(token)
        row.issued_at = clock.now()
        row.issued_by = principal.sub
        uow.session.add(row)
        await uow.commit()
    return Issued(row, token)


async def revoke_system(system: str, *, principal: Principal, uow: UnitOfWork) -> OutsideSystem:
    """Revoked: its token stops working and what it pushes over NATS is dead-lettered. Idempotent."""
    async with uow:
        row = await _visible(uow.session, system, principal)
        if row.revoked_at is None:
            row.revoked_at = clock.now()
            row.revoked_by = principal.sub
            uow.session.add(row)
        # Committed either way: a rollback would leave the row unreadable for the answer.
        await uow.commit()
    return row


async def systems_of(
    session: AsyncSession, principal: Principal, page: PageParams
) -> tuple[list[OutsideSystem], str | None]:
    """A page of the systems of the caller's subtree, by id, and the cursor of the next."""
    stmt = select(OutsideSystem).where(subtree_clause(col(OutsideSystem.township), principal.org))
    after = page.key(str)
    if after is not None:
        stmt = stmt.where(after_clause([col(OutsideSystem.system)], after))
    stmt = stmt.order_by(col(OutsideSystem.system)).limit(page.limit + 1)
    return paginate(list((await session.exec(stmt)).all()), page, key=lambda row: (row.system,))


async def door_by_token(session: AsyncSession, token: str) -> Door | None:
    """The system a token belongs to, if it is a current token of a system not revoked."""
    if not looks_like_token(token):
        return None
    stmt = select(OutsideSystem).where(OutsideSystem.token_hash == token_hash(token))
    row = (await session.exec(stmt)).first()
    return door_of(row) if row is not None and row.revoked_at is None else None


async def door_by_id(session: AsyncSession, system: str) -> Door | None:
    row = await session.get(OutsideSystem, system)
    return door_of(row) if row is not None else None
