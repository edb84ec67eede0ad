"""`python -m sim` is the `ilrs` command."""

import sys

from .cli import main

sys.exit(main())
