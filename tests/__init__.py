"""Hush's tests, in folders that mirror the backend's packages; ``support`` holds what they share."""
