"""Writers for every output format; every write is atomic (temporary file, then rename)."""
