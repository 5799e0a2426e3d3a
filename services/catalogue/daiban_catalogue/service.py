"""Composition root of the catalogue service."""

from daiban_common.migrations import migrations_dir
from daiban_common.service import ServiceSpec

SERVICE = ServiceSpec(
    name="catalogue",
    title="daiban 事项目录 catalogue",
    description=(
        "The item catalogue: materials, legal basis, time limits, fees, handling level, versions, delegation."
    ),
    migrations=migrations_dir(__file__),
    routers=lambda runtime: [],
)
