"""Composition root of the audit service."""

from __future__ import annotations

from pathlib import Path

from daiban_audit.api import routers
from daiban_audit.consumers import subscriptions
from daiban_audit.context import build_context
from daiban_audit.jobs import jobs
from daiban_common.migrations import migrations_dir
from daiban_common.openapi import OpenApiExamples
from daiban_common.orgunits import replica_of
from daiban_common.service import ServiceSpec

SERVICE = ServiceSpec(
    name="audit",
    title="daiban 审计 audit",
    description="A tamper-evident log of every action, verification, statistics and reports.",
    migrations=migrations_dir(__file__),
    default_port=8004,
    order=40,
    openapi_examples=OpenApiExamples.load(Path(__file__).with_name("openapi_examples.json")),
    context=build_context,
    routers=routers,
    subscriptions=subscriptions,
    jobs=jobs,
    known_orgs=replica_of,
    openapi_tags=[{"name": "audit", "description": "审计日志、链校验、统计与报表"}],
)
