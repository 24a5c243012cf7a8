#!/usr/bin/env python
"""Django's command-line utility for the demo Oscar shop (run it with .venv-oscar's Python).

`python manage.py migrate`, `python manage.py load_shopdesk_demo data.json`; the launcher
(launcher/oscar_shop.py) runs these for the tests and the demo.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopdesk_oscar.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
