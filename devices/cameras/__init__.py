"""Cameras: RTSP readers, packet rings, subscribers, the fleet, decoding."""
