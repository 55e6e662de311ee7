"""Acquisition toolkit: tags, read planning, decoding and polling (see codec for the data types)."""
