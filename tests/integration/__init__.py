"""Integration tests against real local servers and browsers."""
