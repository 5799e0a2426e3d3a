"""Composition root of the intake service."""

from daiban_common.migrations import migrations_dir
from daiban_common.service import ServiceSpec

SERVICE = ServiceSpec(
    name="intake",
    title="daiban 受理 intake",
    description="Acceptance, one-time notices, receipts, public progress, handover, evaluations.",
    migrations=migrations_dir(__file__),
    routers=lambda runtime: [],
)
