"""Allow ``python -m tap_cast``."""

from tap_cast.tap import TapCast

TapCast.cli()
