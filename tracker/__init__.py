"""Rasa's tracker store, read and (for tests and benchmarks) written from one home.

Rasa owns these tables; ShopDesk reads them for transcripts, analytics, learning and privacy,
and writes them only where a shopper's rights demand it (erasure, masking) or in tests.
"""
