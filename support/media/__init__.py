"""Media formats, sans-I/O: AMF0, FLV, MPEG-TS, fMP4 and their checks; the published fixture."""
