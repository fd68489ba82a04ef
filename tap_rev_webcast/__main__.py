"""Allow ``python -m tap_rev_webcast``."""

from tap_rev_webcast.tap import TapRevWebcast

TapRevWebcast.cli()
