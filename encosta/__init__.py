"""Encosta."""
