"""Tests for the vision package."""
