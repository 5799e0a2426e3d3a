"""Composition root of the routing service."""

from __future__ import annotations

from pathlib import Path

from daiban_common.migrations import migrations_dir
from daiban_common.openapi import OpenApiExamples
from daiban_common.orgunits import CachedKeySet, codes_of
from daiban_common.runtime import ServiceRuntime
from daiban_common.service import ServiceSpec
from daiban_routing.api import routers
from daiban_routing.consumers import subscriptions
from daiban_routing.context import build_context
from daiban_routing.jobs import jobs
from daiban_routing.models import OrgUnit
from daiban_routing.seed import seed


def known_orgs(runtime: ServiceRuntime) -> CachedKeySet:
    """Routing owns the directory: it reads its own org units (never a replica)."""
    return CachedKeySet(runtime.engine, codes_of(OrgUnit.__table__))  # type: ignore[attr-defined]


SERVICE = ServiceSpec(
    name="routing",
    title="daiban 流转 routing",
    description=(
        "The three-tier directory, moving cases between tiers, windows with AB posts, "
        "decisions, deadlines and supervision."
    ),
    migrations=migrations_dir(__file__),
    default_port=8003,
    order=30,
    openapi_examples=OpenApiExamples.load(Path(__file__).with_name("openapi_examples.json")),
    context=build_context,
    routers=routers,
    subscriptions=subscriptions,
    jobs=jobs,
    seed=seed,
    known_orgs=known_orgs,
    openapi_tags=[
        {"name": "directory", "description": "区划单位、服务场所、部门、窗口、工作人员与AB岗"},
        {"name": "work", "description": "任务、决定、特别程序、延期与流转轨迹"},
        {"name": "supervision", "description": "电子监察：黄牌、红牌"},
        {
            "name": "public",
            "description": "公开目录（无需令牌）：便民服务中心、代办点的名称、地址、电话与办公时间",
        },
        {"name": "calendar", "description": "节假日安排：国务院办公厅通知的放假与调休上班"},
    ],
)
