"""Named arming conditions (e.g. a flood warning) set by the API, sensors, rules."""
