"""The reference implementation of the Nova streaming contract v1."""
