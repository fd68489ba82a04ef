"""tap-cast: Singer tap for the Cast.app Analytics API."""
