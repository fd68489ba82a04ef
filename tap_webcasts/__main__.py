"""Allow ``python -m tap_webcasts``."""

from tap_webcasts.tap import TapWebcasts

TapWebcasts.cli()
