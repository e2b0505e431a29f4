"""City command-centre service: runtime, API and pure wall core."""
