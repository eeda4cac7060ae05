"""`python -m modelcheck` is the `modelcheck` command."""
import sys

from .entry import main

sys.exit(main())
