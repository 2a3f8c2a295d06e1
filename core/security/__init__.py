"""Keys, sub-keys, keyed pseudonyms and password/PIN hashing."""
