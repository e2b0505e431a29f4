"""Alarms: the pure lifecycle, the service and its persistence."""
