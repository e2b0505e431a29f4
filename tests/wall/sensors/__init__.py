"""Tests for the sensors capability (issue 11)."""
