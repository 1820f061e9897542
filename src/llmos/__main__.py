"""`python -m llmos` runs the `llmos` command."""
import sys

from llmos.cli.main import main

sys.exit(main())
