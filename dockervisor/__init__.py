"""Dockervisor: manage Docker containers by image name, with rollback."""

__version__ = "0.1.0"
