"""Test support: real local servers started by fixtures."""
