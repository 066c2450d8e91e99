"""``python -m replikit.cli``: the same as the ``replikit`` command."""

import sys

from replikit.cli import main

sys.exit(main())
