"""Real local infrastructure for development and tests."""
