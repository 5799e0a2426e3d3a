"""Composition root of the audit service."""

from daiban_common.migrations import migrations_dir
from daiban_common.service import ServiceSpec

SERVICE = ServiceSpec(
    name="audit",
    title="daiban 审计 audit",
    description="A tamper-evident log of every action, verification, statistics and reports.",
    migrations=migrations_dir(__file__),
    routers=lambda runtime: [],
)
