"""Loading the demo catalogue with its history (baseline -> delegation -> today's version), for
the node's county (written for Laixi, moved to any other: `load_demo_catalogue`).

Idempotent: items already present are left alone. Every version goes to the outbox as an
`ItemPublished` event like any other publish, so that intake's replicas fill when the suite starts.
"""

from __future__ import annotations

import logging

from daiban_catalogue import queries
from daiban_catalogue.handlers import rows
from daiban_catalogue.seed.catalogue import load_demo_catalogue
from daiban_catalogue.seed.history import replay_demo_history
from daiban_common.divisions import county_name, divisions_dir
from daiban_common.runtime import ServiceRuntime
from daiban_contracts.catalogue import ItemPublished
from daiban_contracts.orgcodes import OrgCode

log = logging.getLogger(__name__)
SEED_ACTOR = "system:catalogue"


async def seed_demo_catalogue(runtime: ServiceRuntime) -> None:
    settings = runtime.settings
    county = OrgCode.parse(settings.org).county.value
    demo = load_demo_catalogue(county, county_name(divisions_dir(settings.divisions_dir), county))
    history = replay_demo_history(demo)
    async with runtime.uow() as uow:
        await rows.add_departments(uow.session, demo.departments)
        added = 0
        for draft in demo.drafts:
            code = draft.implementation_code
            if await queries.get_item(uow.session, code) is not None:
                continue
            item = rows.add_item(uow.session, draft)
            # The version rows reference the item: it must exist in the database first.
            await uow.flush()
            for version in history[code]:
                rows.add_version(uow.session, item, version)
                uow.emit(
                    ItemPublished(item=version), subject=code, org=version.implementing_org, actor=SEED_ACTOR
                )
            added += 1
        await uow.commit()
    log.info("catalogue demo seed: %d items added, %d already present", added, len(demo.drafts) - added)
