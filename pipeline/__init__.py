"""Tag NHS and public-sector free text with the thirteen System Leadership Behaviours."""

__version__ = "0.1.0"
