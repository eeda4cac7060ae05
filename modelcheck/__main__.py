"""`python -m modelcheck` is the `modelcheck` command."""
import sys

from .cli import main

sys.exit(main())
