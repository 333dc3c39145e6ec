"""Helpers that touch no model."""
