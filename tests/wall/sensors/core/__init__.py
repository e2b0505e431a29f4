"""Tests for the pure sensor core."""
