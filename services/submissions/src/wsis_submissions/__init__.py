"""WSIS submissions service."""
