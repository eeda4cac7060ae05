"""The `modelcheck` command.  Loading the checker (lark, z3) takes a moment;
Ctrl-C during it is exit 130 with one line, like Ctrl-C at any later moment."""
import sys


def main(argv=None) -> int:
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        try:
            print("modelcheck: interrupted", file=sys.stderr, flush=True)
        except (OSError, ValueError, AttributeError):
            pass
        return 130
    return run(argv)
