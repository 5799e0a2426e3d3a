"""The write side of items: each command loads what it needs, applies the domain's rules and commits.

A new version, its `ItemPublished` event (via the outbox) and the idempotency record commit in one
unit of work, so a replica can never see a version the catalogue does not hold, nor miss one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from daiban_catalogue import queries
from daiban_catalogue.commands import CreateDraft, DelegateItem, EditDraft, PublishDraft, RetireItem
from daiban_catalogue.domain import (
    InvalidDraft,
    ItemDraft,
    VersionConflict,
    Violation,
    delegate,
    diff,
    ensure_not_retroactive,
    ensure_valid,
    identity_changes,
    merge_patch,
    publish,
    retire,
    same_content,
)
from daiban_catalogue.handlers import rows
from daiban_catalogue.models import Item
from daiban_catalogue.schemas import DRAFT_STATUS_LABELS, DraftOut, item_out
from daiban_common.calendar import today_in_shanghai
from daiban_common.contracts.catalogue import ItemPublished, ItemVersionData
from daiban_common.errors import Conflict, field_path, validation_message
from daiban_common.idempotency import Answer, Once, remember, replay
from daiban_common.orgcodes import OrgCode, Tier
from daiban_common.uow import UnitOfWork


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Catalogue:
    """What the handlers know about this node: the org units whose items it holds, and the time."""

    known_orgs: frozenset[str]
    clock: Callable[[], datetime] = field(default=_utc_now)

    @classmethod
    def for_node(cls, node: OrgCode) -> Catalogue:
        """A node's catalogue holds its county's items (the county node is the authority)."""
        return cls(known_orgs=frozenset({(node if node.tier is Tier.above_county else node.county).value}))

    @property
    def prefixes(self) -> list[str]:
        """Code prefixes of the org units this catalogue serves."""
        return [OrgCode(org).subtree_prefix for org in sorted(self.known_orgs)]

    def today(self) -> date:
        return today_in_shanghai(self.clock())


async def create_draft(cmd: CreateDraft, uow: UnitOfWork, catalogue: Catalogue) -> Answer:
    """A new item, as a draft nobody but administrators sees until it is published."""
    async with uow:
        if (stored := await replay(uow, cmd.once)) is not None:
            return stored
        names = await queries.department_names(uow.session)
        ensure_valid(cmd.draft, known_departments=names.keys(), known_orgs=catalogue.known_orgs)
        if await queries.get_item(uow.session, cmd.draft.implementation_code) is not None:
            message = f"实施编码{cmd.draft.implementation_code}已存在"
            raise VersionConflict([Violation("implementation_code", message)])
        item = rows.add_item(uow.session, cmd.draft)
        state = _draft_state(item, cmd.draft, None)
        location = f"/v1/items/{item.implementation_code}/draft"
        answer = Answer(201, state.model_dump(mode="json"), headers={"Location": location})
        return await _commit(uow, cmd.once, answer)


async def edit_draft(cmd: EditDraft, uow: UnitOfWork, catalogue: Catalogue) -> DraftOut:
    """Apply a merge patch to the draft; the result must satisfy every rule, as a new draft must."""
    async with uow:
        item = await _item(uow, cmd.code, for_update=True)
        before = queries.draft_of(item)
        draft = _parse_draft(merge_patch(before.model_dump(mode="json"), cmd.patch))
        if problems := identity_changes(before, draft):
            raise InvalidDraft(problems)
        names = await queries.department_names(uow.session)
        ensure_valid(draft, known_departments=names.keys(), known_orgs=catalogue.known_orgs)
        rows.save_draft(item, draft)
        current = await queries.current_version(uow.session, item)
        state = _draft_state(item, draft, current)
        await uow.commit()
        return state


async def get_draft(code: str, uow: UnitOfWork) -> DraftOut:
    async with uow:
        item = await _item(uow, code)
        return _draft_state(item, queries.draft_of(item), await queries.current_version(uow.session, item))


async def publish_draft(cmd: PublishDraft, uow: UnitOfWork, catalogue: Catalogue) -> Answer:
    """The draft becomes the next version, immutable from now on."""
    async with uow:
        if (stored := await replay(uow, cmd.once)) is not None:
            return stored
        item = await _item(uow, cmd.code, for_update=True)
        effective = _effective_date(cmd.effective_date, catalogue)
        names = await queries.department_names(uow.session)
        version = publish(
            queries.draft_of(item),
            await queries.current_version(uow.session, item),
            effective_date=effective,
            now=catalogue.clock(),
            known_departments=names.keys(),
            known_orgs=catalogue.known_orgs,
            note=cmd.note,
        )
        return await _record(uow, item, version, cmd.actor, cmd.once)


async def delegate_item(cmd: DelegateItem, uow: UnitOfWork, catalogue: Catalogue) -> Answer:
    """Move the handling level down (下放) or back up (收回) as a new version recording the move."""
    async with uow:
        if (stored := await replay(uow, cmd.once)) is not None:
            return stored
        item = await _item(uow, cmd.code, for_update=True)
        current = await _published(uow, item)
        effective = _effective_date(cmd.effective_date, catalogue)
        names = await queries.department_names(uow.session)
        version = delegate(
            current,
            to_level=cmd.to_level,
            departments=cmd.departments,
            reason=cmd.reason,
            effective_date=effective,
            now=catalogue.clock(),
            known_departments=names.keys(),
            known_orgs=catalogue.known_orgs,
            kind=cmd.kind,
            deciding_authority=cmd.deciding_authority,
        )
        return await _record(uow, item, version, cmd.actor, cmd.once)


async def retire_item(cmd: RetireItem, uow: UnitOfWork, catalogue: Catalogue) -> Answer:
    """Withdraw the item; cases accepted under earlier versions keep theirs."""
    async with uow:
        if (stored := await replay(uow, cmd.once)) is not None:
            return stored
        item = await _item(uow, cmd.code, for_update=True)
        current = await _published(uow, item)
        effective = _effective_date(cmd.effective_date, catalogue)
        version = retire(current, reason=cmd.reason, effective_date=effective, now=catalogue.clock())
        return await _record(uow, item, version, cmd.actor, cmd.once)


# ---------------------------------------------------------------------------------------------


async def _item(uow: UnitOfWork, code: str, *, for_update: bool = False) -> Item:
    item = await queries.get_item(uow.session, code, for_update=for_update)
    if item is None:
        raise queries.UnknownItem()
    return item


async def _published(uow: UnitOfWork, item: Item) -> ItemVersionData:
    """The current version, for a move or retirement; refused while the draft holds other edits."""
    current = await queries.current_version(uow.session, item)
    if current is None:
        raise VersionConflict([Violation("status", "事项尚未发布")])
    if not same_content(queries.draft_of(item), current):
        # The new version is made from the current one and replaces the draft; edits would be lost.
        message = "草稿有未发布的修改，请先发布草稿或撤销修改，再下放、收回或废止"
        raise VersionConflict([Violation("draft", message)])
    return current


def _effective_date(requested: date | None, catalogue: Catalogue) -> date:
    today = catalogue.today()
    effective = requested or today
    ensure_not_retroactive(effective, today)
    return effective


async def _record(uow: UnitOfWork, item: Item, version: ItemVersionData, actor: str, once: Once) -> Answer:
    rows.add_version(uow.session, item, version)
    uow.emit(
        ItemPublished(item=version),
        subject=version.implementation_code,
        org=version.implementing_org,
        actor=actor,
    )
    # Presented here, in the unit of work, so a replay answers exactly what was sent.
    out = item_out(version, await queries.department_names(uow.session))
    location = f"/v1/items/{version.implementation_code}/versions/{version.version}"
    answer = Answer(201, out.model_dump(mode="json"), headers={"Location": location})
    return await _commit(uow, once, answer)


async def _commit(uow: UnitOfWork, once: Once, answer: Answer) -> Answer:
    await remember(uow, once, answer)
    try:
        await uow.commit()
    except IntegrityError:
        # Two requests raced (the same new item or version number under different keys): one won.
        raise Conflict("该事项刚被其他请求修改，请刷新后重试") from None
    return answer


def _draft_state(item: Item, draft: ItemDraft, current: ItemVersionData | None) -> DraftOut:
    return DraftOut(
        implementation_code=item.implementation_code,
        status=item.status,
        status_label=DRAFT_STATUS_LABELS.get(item.status, item.status),
        current_version=item.current_version,
        draft=draft,
        pending_changes=diff(current, draft) if current is not None else [],
    )


def _parse_draft(data: Any) -> ItemDraft:
    try:
        return ItemDraft.model_validate(data)
    except ValidationError as exc:
        violations = [
            Violation(field_path(tuple(e["loc"])) or "body", validation_message(e)) for e in exc.errors()
        ]
        raise InvalidDraft(violations) from None
