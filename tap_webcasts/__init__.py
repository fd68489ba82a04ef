"""tap-webcasts: Singer tap for the Webcasts.com Reporting API v2.0."""
