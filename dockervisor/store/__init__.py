"""dockervisor's own files: state, history, locks, written atomically under one root."""
