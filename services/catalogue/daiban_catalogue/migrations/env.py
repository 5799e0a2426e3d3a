from daiban_catalogue.models import metadata
from daiban_common.migrations import run_env

run_env(metadata)
