"""Plumbing shared by the WSIS services."""
