"""Checkers that read what the platform wrote in its stores, over each store's own protocol."""
