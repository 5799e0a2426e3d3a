from sqlalchemy import MetaData

from daiban_common.migrations import run_env
from daiban_routing.models import SCHEMA, metadata

# SQLModel.metadata is shared by every installed service; autogenerate would otherwise propose
# other services' tables as routing's. Compare against routing's own schema only.
routing_only = MetaData()
for table in metadata.tables.values():
    if table.schema == SCHEMA:
        table.to_metadata(routing_only)

run_env(routing_only)
