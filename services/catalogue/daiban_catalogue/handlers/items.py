"""The write side of items: each command loads what it needs, applies the domain's rules and commits.

A new version, its `ItemPublished` event (via the outbox) and the idempotency record commit in one
unit of work, so a replica can never see a version the catalogue does not hold, nor miss one.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NoReturn, TypeVar

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from daiban_catalogue import queries
from daiban_catalogue.commands import CreateDraft, DelegateItem, EditDraft, PublishDraft, RetireItem
from daiban_catalogue.context import CatalogueContext
from daiban_catalogue.domain import (
    ConcurrentChange,
    DraftState,
    InvalidDraft,
    ItemDraft,
    NewVersion,
    NotInCatalogue,
    VersionConflict,
    Violation,
    delegate,
    ensure_not_retroactive,
    ensure_valid,
    identity_changes,
    merge_patch,
    publish,
    refuse_version_edit,
    retire,
    same_content,
)
from daiban_catalogue.domain.drafts import HTTP_ITEM_CODE, http_field
from daiban_catalogue.handlers import rows
from daiban_catalogue.models import Item
from daiban_common.idempotency import AnswerOf, Once, Replayed, remember, replayed
from daiban_common.uow import UnitOfWork
from daiban_common.validation import field_path, validation_message
from daiban_contracts.catalogue import ItemPublished, ItemVersionData

T = TypeVar("T")


async def create_draft(
    cmd: CreateDraft, uow: UnitOfWork, catalogue: CatalogueContext, answer: AnswerOf[DraftState]
) -> DraftState | Replayed:
    """A new item, as a draft nobody but administrators sees until it is published."""
    async with uow:
        if (retry := await replayed(uow, cmd.once)) is not None:
            return retry
        names = await queries.department_names(uow.session)
        ensure_valid(cmd.draft, known_departments=names.keys(), known_orgs=catalogue.known_orgs)
        if await queries.get_item(uow.session, cmd.draft.implementation_code) is not None:
            message = f"实施编码{cmd.draft.implementation_code}已存在"
            raise VersionConflict([Violation(HTTP_ITEM_CODE, message)])
        item = rows.add_item(uow.session, cmd.draft)
        return await _commit(uow, cmd.once, answer, _state(item, cmd.draft, None))


async def edit_draft(cmd: EditDraft, uow: UnitOfWork, catalogue: CatalogueContext) -> DraftState:
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
        await uow.commit()
        return _state(item, draft, current)


async def edit_version(code: str, version: int, uow: UnitOfWork) -> NoReturn:
    """Published versions are immutable: an edit of one is refused (once it is known to exist)."""
    async with uow:
        found = await queries.get_version(uow.session, code, version)
    if found is None:
        raise NotInCatalogue("该事项没有这个版本")
    refuse_version_edit(found)


async def publish_draft(
    cmd: PublishDraft, uow: UnitOfWork, catalogue: CatalogueContext, answer: AnswerOf[NewVersion]
) -> NewVersion | Replayed:
    """The draft becomes the next version, immutable from now on."""
    async with uow:
        if (retry := await replayed(uow, cmd.once)) is not None:
            return retry
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
        return await _record(uow, item, version, cmd.actor, cmd.once, answer)


async def delegate_item(
    cmd: DelegateItem, uow: UnitOfWork, catalogue: CatalogueContext, answer: AnswerOf[NewVersion]
) -> NewVersion | Replayed:
    """Move the handling level down (下放) or back up (收回) as a new version recording the move."""
    async with uow:
        if (retry := await replayed(uow, cmd.once)) is not None:
            return retry
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
        return await _record(uow, item, version, cmd.actor, cmd.once, answer)


async def retire_item(
    cmd: RetireItem, uow: UnitOfWork, catalogue: CatalogueContext, answer: AnswerOf[NewVersion]
) -> NewVersion | Replayed:
    """Withdraw the item; cases accepted under earlier versions keep theirs."""
    async with uow:
        if (retry := await replayed(uow, cmd.once)) is not None:
            return retry
        item = await _item(uow, cmd.code, for_update=True)
        current = await _published(uow, item)
        effective = _effective_date(cmd.effective_date, catalogue)
        version = retire(current, reason=cmd.reason, effective_date=effective, now=catalogue.clock())
        return await _record(uow, item, version, cmd.actor, cmd.once, answer)


# ---------------------------------------------------------------------------------------------


async def _item(uow: UnitOfWork, code: str, *, for_update: bool = False) -> Item:
    item = await queries.get_item(uow.session, code, for_update=for_update)
    if item is None:
        raise NotInCatalogue()
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


def _effective_date(requested: date | None, catalogue: CatalogueContext) -> date:
    today = catalogue.today()
    effective = requested or today
    ensure_not_retroactive(effective, today)
    return effective


async def _record(
    uow: UnitOfWork,
    item: Item,
    version: ItemVersionData,
    actor: str,
    once: Once,
    answer: AnswerOf[NewVersion],
) -> NewVersion:
    rows.add_version(uow.session, item, version)
    uow.emit(
        ItemPublished(item=version),
        subject=version.implementation_code,
        org=version.implementing_org,
        actor=actor,
    )
    # The names are read here, in the unit of work, so a replay answers exactly what was sent.
    created = NewVersion(version, await queries.department_names(uow.session))
    return await _commit(uow, once, answer, created)


async def _commit(uow: UnitOfWork, once: Once, answer: AnswerOf[T], result: T) -> T:
    await remember(uow, once, answer(result))
    try:
        await uow.commit()
    except IntegrityError:
        # Two requests raced (the same new item or version number under different keys): one won.
        raise ConcurrentChange() from None
    return result


def _state(item: Item, draft: ItemDraft, current: ItemVersionData | None) -> DraftState:
    return DraftState(item.implementation_code, item.status, item.current_version, draft, current)


def _parse_draft(data: Any) -> ItemDraft:
    try:
        return ItemDraft.model_validate(data)
    except ValidationError as exc:
        violations = [
            Violation(http_field(field_path(tuple(e["loc"]))) or "body", validation_message(e))
            for e in exc.errors()
        ]
        raise InvalidDraft(violations) from None
