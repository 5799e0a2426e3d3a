"""Which events the catalogue applies: only the org units of its county, into its replica (the
platform's subscription; the catalogue has no event handlers of its own)."""

from __future__ import annotations

from collections.abc import Sequence

from daiban_common.consumer import Subscription
from daiban_common.orgunits import replica_subscription
from daiban_common.runtime import ServiceRuntime


def subscriptions(runtime: ServiceRuntime) -> Sequence[Subscription]:
    return [replica_subscription(runtime)]
