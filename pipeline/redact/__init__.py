"""Replacing personal identifiers in free text with typed placeholders: numbers and addresses, names."""
