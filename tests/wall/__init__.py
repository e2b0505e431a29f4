"""Tests for the wall package."""
