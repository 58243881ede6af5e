"""HLS: fetching what viewers download, and the RFC 8216 rules it is judged by."""
