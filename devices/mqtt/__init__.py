"""MQTT: one paho client bridged into asyncio."""
