"""Composition root of the intake service."""

from pathlib import Path

from daiban_common.migrations import migrations_dir
from daiban_common.openapi import OpenApiExamples
from daiban_common.orgunits import replica_of
from daiban_common.service import ServiceSpec
from daiban_intake.api import routers
from daiban_intake.consumers import subscriptions
from daiban_intake.context import build_context
from daiban_intake.jobs import jobs

SERVICE = ServiceSpec(
    name="intake",
    title="daiban 受理 intake",
    description="Acceptance, one-time notices, receipts, public progress, handover, evaluations.",
    migrations=migrations_dir(__file__),
    default_port=8001,
    order=20,
    openapi_examples=OpenApiExamples.load(Path(__file__).with_name("openapi_examples.json")),
    context=build_context,
    routers=routers,
    subscriptions=subscriptions,
    jobs=jobs,
    known_orgs=replica_of,
    openapi_tags=[
        {"name": "staff", "description": "窗口工作人员与代办员"},
        {"name": "public", "description": "群众（无需登录）"},
        {"name": "systems", "description": "乡镇外部系统：登记（管理员）与事件推送（系统令牌）"},
    ],
)
