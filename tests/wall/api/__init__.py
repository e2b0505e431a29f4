"""Tests of the HTTP layer (wall.api) that need no running service."""
