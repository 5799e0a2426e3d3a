"""Composition root of the routing service."""

from daiban_common.migrations import migrations_dir
from daiban_common.service import ServiceSpec

SERVICE = ServiceSpec(
    name="routing",
    title="daiban 流转 routing",
    description=(
        "The three-tier directory, moving cases between tiers, windows with AB posts, "
        "decisions, deadlines and supervision."
    ),
    migrations=migrations_dir(__file__),
    routers=lambda runtime: [],
)
