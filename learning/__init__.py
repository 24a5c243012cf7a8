"""The learning loop: agents' corrections become training data, and good conversations tests."""
