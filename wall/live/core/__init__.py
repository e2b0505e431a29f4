"""Pure live-view core: session admission, session lifetime, SDP offer checks."""
