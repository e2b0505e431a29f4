"""Cameras, sensors and the adapters that talk to them."""
