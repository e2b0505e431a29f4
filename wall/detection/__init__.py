"""Camera analysis: frames, per-camera state, rules and the events they raise."""
