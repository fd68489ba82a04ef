"""Mechanisms shared by the taps of this distribution (retries, errors, record helpers)."""
