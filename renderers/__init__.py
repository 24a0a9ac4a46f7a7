"""Output formats: each module is a pure function of the Tracker model (no I/O, no database)."""
