"""Tests of the pure wall core (wall/core)."""
