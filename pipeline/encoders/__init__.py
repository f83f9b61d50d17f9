"""Encoder backends, text in and unit-length vectors out: sentence-transformers, hashing, ONNX, static; a cache."""
