"""Live view: the WebRTC relay of camera H.264, codec preferences and snapshots."""
