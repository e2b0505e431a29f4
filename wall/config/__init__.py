"""Settings: the root model composing each capability's section; YAML reading."""
