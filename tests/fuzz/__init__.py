"""Bounded-time fuzz targets, one per file reader: each reader returns or raises a Lift3DError, never another
exception, never hangs. Run with the rest of the suite (``make test``); ``LIFT3D_FUZZ_EXAMPLES=N`` fuzzes longer."""
