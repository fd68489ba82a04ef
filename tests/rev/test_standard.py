"""The Singer SDK's standard tap tests for tap-rev-webcast, against a sandbox started for this
module (every stream returns records, schemas match records, keys are present)."""

from __future__ import annotations

import atexit
import json

from singer_sdk.testing import get_tap_test_class

from tests.rev.conftest import make_dataset, rev_config, start, tap_with_clock

# The factory needs the config when the class is built, so the sandbox starts at import.
_rev = start(make_dataset(seed=5, webcasts=6, sessions=30, realtime_attendees=5))
atexit.register(_rev.server.stop)


def _add_unknown_field(request, response):
    """A field Rev may add: the standard tests then check unmapped_fields is an object."""
    if request.path.endswith("/comments"):
        rows = json.loads(response.body)
        for row in rows:
            row["reactionCount"] = 3
        response.body = json.dumps(rows).encode()


_rev.server.hooks.append(_add_unknown_field)

TestTapRevWebcast = get_tap_test_class(
    tap_class=tap_with_clock(_rev.clock),
    config=rev_config(_rev.server),
)
