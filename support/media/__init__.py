"""Media: FLV reading, the published fixture, MPEG-TS checks."""
