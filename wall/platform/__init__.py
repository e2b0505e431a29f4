"""What every capability stands on: errors, auth, health, the event bus, the store."""
