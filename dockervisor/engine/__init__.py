"""What docker is asked, and the one place that asks it."""
