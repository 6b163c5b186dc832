"""`python -m scripts.cluster COMMAND`: the only place the launcher reads its argv and environment."""

import os
import sys

from scripts.cluster.cli import main

sys.exit(main(sys.argv[1:], os.environ))
