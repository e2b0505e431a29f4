"""Tests for the layouts package."""
