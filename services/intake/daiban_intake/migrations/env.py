from daiban_common.migrations import run_env
from daiban_intake.models import metadata

run_env(metadata)
