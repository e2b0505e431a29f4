"""Media adapters: the H.264 encoder and the MPEG-TS muxer."""
