"""`python3 -m dockervisor` runs the CLI."""

import sys

from dockervisor.cli import main

sys.exit(main())
