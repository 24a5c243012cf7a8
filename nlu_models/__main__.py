"""`python -m nlu_models`: train, serve or try the intent classifier."""

import sys

from nlu_models.cli import main

sys.exit(main())
