"""``python -m egov.cli``: the same command line as ``egov``."""

import sys

from egov.cli import main

sys.exit(main())
