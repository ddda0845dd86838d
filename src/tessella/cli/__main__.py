"""``python -m tessella.cli``."""

import sys

from . import main

sys.exit(main())
