"""Composition root of the catalogue service."""

from pathlib import Path

from daiban_catalogue.api import routers
from daiban_catalogue.consumers import subscriptions
from daiban_catalogue.context import build_context
from daiban_catalogue.seed import seed_demo_catalogue
from daiban_common.migrations import migrations_dir
from daiban_common.openapi import OpenApiExamples
from daiban_common.orgunits import replica_of
from daiban_common.service import ServiceSpec

SERVICE = ServiceSpec(
    name="catalogue",
    title="daiban 事项目录 catalogue",
    description=(
        "The item catalogue: materials, legal basis, time limits, fees, handling level, versions, delegation."
    ),
    migrations=migrations_dir(__file__),
    default_port=8002,
    order=10,
    township=False,
    openapi_examples=OpenApiExamples.load(Path(__file__).with_name("openapi_examples.json")),
    context=build_context,
    routers=routers,
    seed=seed_demo_catalogue,
    known_orgs=replica_of,
    subscriptions=subscriptions,
    openapi_tags=[
        {"name": "items", "description": "事项目录：检索（中文、拼音、首字母）、版本、下放、废止"},
        {"name": "reports", "description": "便民服务手册与审批改革成效统计"},
    ],
)
