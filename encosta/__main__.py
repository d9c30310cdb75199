"""``python -m encosta``."""

import sys

from encosta.cli import main

sys.exit(main())
