from daiban_common.migrations import run_env
from daiban_routing.models import metadata

run_env(metadata)
