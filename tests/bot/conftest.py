import sys
from pathlib import Path

# Rasa loads bot/shopdesk_rasa from PYTHONPATH=bot; the tests do the same.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bot"))
