"""tap-rev-webcast: Singer tap for Vbrick Rev webcast reports."""
