"""HTTP and WebSocket API routers."""
