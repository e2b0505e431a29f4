"""Tests for citywall."""
