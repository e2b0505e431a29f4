"""Sensors: stations, observations, threshold rules and their alarms (issue 11)."""
