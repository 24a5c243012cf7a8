"""A shopper's personal data: finding and masking it (redaction), and their rights over it
(export, erasure, retention)."""
