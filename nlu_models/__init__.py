"""The transformer classifiers: LoRA adapters on an 8-bit base model, trained and served here."""
