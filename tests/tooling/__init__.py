"""Tooling the tests use (not installed with xpnet): the array-operation counter."""
