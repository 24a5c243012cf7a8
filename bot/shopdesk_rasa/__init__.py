"""Rasa-side code of ShopDesk. Runs in the Python 3.10 venv beside Rasa; imports nothing of
the 3.11 packages and talks to them over HTTP only."""
