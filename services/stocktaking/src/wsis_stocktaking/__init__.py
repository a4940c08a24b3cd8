"""WSIS stocktaking service."""
