"""A family's run configuration, and where it comes from."""
