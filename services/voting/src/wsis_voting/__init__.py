"""WSIS voting service."""
