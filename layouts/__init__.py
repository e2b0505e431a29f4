"""Wall layout definitions and the pure layout package."""
