"""WSIS review service."""
