"""Dockervisor: manage Docker containers by image name, with rollback."""

__version__ = "0.2.0"
