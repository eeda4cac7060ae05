"""`modelcheck check [-D NAME=VALUE]... [--format table|json|lockdep|sarif|ktap] [--html FILE] FILE...`,
`modelcheck matrix SPEC -D NAME=v1,v2|LO..HI ...`, `modelcheck explain KIND`,
`modelcheck splat FILE|- [-o SPEC] [--format json]` (see splat/command.py).

Exit status: 0 every file's findings equal its `expect` lines; 1 some do
not; 2 bad input or usage (always with file:line:col, never a traceback), or
output that cannot be written (a full disk, a closed stdout: one line on
stderr); 3 an internal error (a bug in modelcheck); 130 interrupted (Ctrl-C,
at any moment); 141 the reader of stdout went away (`| head`).
"""
from __future__ import annotations

import argparse
import os
import sys

from .language.errors import SpecError, printable
from .language.bounds import MAX_INPUT_BYTES
from .search.budget import DEFAULT_DEPTH
from .search.explorer import Limits, memory_mb

# The reports, matrix and the engines' heavier modules (tabulate, drawsvg,
# z3, numpy, scipy) are imported where they are used: a small check starts fast.


FORMATS = ("table", "json", "lockdep", "sarif", "ktap")


class _Parser(argparse.ArgumentParser):
    def error(self, message):                       # usage errors: exit 2, as argparse does
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _param(text: str) -> tuple[str, int]:
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"-D takes NAME=VALUE, not '{text}'")
    try:
        return name, int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"-D {name}: '{value}' is not an integer")


def _number(kind, least, what):
    """An option's value, checked: `--max-states 0` is refused (leave the
    option out for no limit), not taken as "no limit"."""
    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            v = None
        if v is None or v != v or v < least:
            raise argparse.ArgumentTypeError(f"takes {what} >= {least}, not '{text}'")
        return v
    return parse


STATES = _number(int, 1, "a number of states (the initial one included)")
SECONDS = _number(float, 0, "a number of seconds")
MB = _number(int, 1, "a number of MB")
INPUT_MB = _number(float, 0.001, "a size in MB")


def _grid_values(text: str):
    from . import matrix
    return matrix.values(text)


def _depth(text: str) -> int:
    try:
        k = int(text)
    except ValueError:
        k = -1
    if k < 0:
        raise argparse.ArgumentTypeError(f"--depth takes a number of steps >= 0, not '{text}'")
    return k


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="modelcheck", description="Model checker for GPU-driver concurrency designs.")
    from . import __version__
    from .search import native
    p.add_argument("--version", action="version",
                   version=f"modelcheck {__version__}; search core: {native.status()}; "
                           f"graph analyses: {native.analyses_status()}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser("check", help="check .fspec files against their expect lines")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("-D", dest="params", action="append", type=_param, default=[],
                   metavar="NAME=VALUE", help="override a param of the spec")
    c.add_argument("--format", choices=FORMATS, default="table",
                   help="lockdep: deadlocks and lock-order cycles as the kernel's lockdep prints them")
    c.add_argument("--html", metavar="FILE", help="also write an HTML page with tables and sequence diagrams")
    c.add_argument("--max-states", type=STATES, metavar="N",
                   help="store at most N states, the initial one included (N >= 1)")
    c.add_argument("--timeout", type=SECONDS, metavar="S",
                   help="stop after S seconds per file, from reading it to its report")
    c.add_argument("--max-memory", type=MB, metavar="MB",
                   help="stop when resident memory reaches MB, in any phase")
    c.add_argument("--max-input", type=INPUT_MB, metavar="MB",
                   help=f"refuse a spec file larger than MB (default {MAX_INPUT_BYTES / 2**20:g})")
    c.add_argument("--engine", choices=("explicit", "native", "python", "smt"), default="explicit",
                   help="explicit: every state (default), on the native core when it covers the "
                        "run, else in Python; native / python: the explicit engine on that core "
                        "(native falls back to python, saying why); smt: z3, bounded to --depth steps")
    c.add_argument("--depth", type=_depth, metavar="K",
                   help=f"bound of the smt engine in steps (default {DEFAULT_DEPTH})")
    c.add_argument("--early", action="store_true",
                   help="early-bug mode: stop at the first deadlock (no actor can move), assert, "
                        "invariant or step finding, with its shortest trace; the other kinds are "
                        "then not decided")
    c.add_argument("--distributed", action="store_true",
                   help="search on a Ray cluster, states hash-partitioned over workers (needs the ray "
                        "extra); the same states, findings and shortest traces, without partial-order "
                        "reduction; --max-memory is then per worker")
    c.add_argument("--address", default="local", metavar="ADDR",
                   help="with --distributed: local (default: a local cluster for this run), "
                        "HOST:6379 or ray://HOST:10001")
    c.add_argument("--partitions", type=_number(int, 1, "a number of partitions"), metavar="P",
                   help="with --distributed: state partitions (default: the cluster's CPUs)")
    c.add_argument("--no-gather", action="store_true",
                   help="with --distributed: do not gather the graph on this machine; deadlocks (a "
                        "fixpoint across the workers), step findings, invariants, reachable and "
                        "lock-order are decided, indefinite-fence and timeout-hang are not, and the "
                        "run says so")
    c.add_argument("--workers", type=_number(int, 1, "a number of threads"), default=1, metavar="N",
                   help="threads of the native search (default 1); the same states, findings and "
                        "traces for any N, only the search runs in parallel")
    c.add_argument("--no-reduction", action="store_true",
                   help="expand every enabled step (no partial-order reduction)")
    c.add_argument("--no-symmetry", action="store_true",
                   help="search every permutation of interchangeable actor copies")
    c.add_argument("--summary", action="store_true", help="one line per file as expected; tables only for the others")
    c.add_argument("--wide", action="store_true",
                   help="tables one line per step, however long (default: wrapped to 100 columns)")
    c.add_argument("--all", action="store_true",
                   help="also the findings folded into another of the same root cause")
    m = sub.add_parser("matrix", help="check a spec for every combination of param values")
    m.add_argument("file", metavar="SPEC")
    m.add_argument("-D", dest="grid", action="append", type=_grid_values, default=[], required=True,
                   metavar="NAME=v1,v2|LO..HI", help="values of a param; repeatable")
    for opt, kind, var in (("--max-states", STATES, "N"), ("--timeout", SECONDS, "S"),
                           ("--max-memory", MB, "MB"), ("--max-input", INPUT_MB, "MB")):
        m.add_argument(opt, type=kind, metavar=var, help="as for check, per combination")
    st = sub.add_parser("step", help="walk a spec step by step from stdin (undo, back, state, a finding's trace)")
    st.add_argument("file", metavar="SPEC")
    st.add_argument("-D", dest="params", action="append", type=_param, default=[],
                    metavar="NAME=VALUE", help="override a param of the spec")
    st.add_argument("--trace", metavar="KIND|FILE",
                    help="load the shortest trace of a finding kind, or of the first finding of a JSON document")
    st.add_argument("--format", choices=("text", "json"), default="text",
                    help="json: one event per line, for tools")
    w = sub.add_parser("swarm", help="many small diversified searches on a Ray cluster: finds bugs in "
                       "designs too big to search exhaustively; never a proof (needs the ray extra)")
    w.add_argument("file", metavar="SPEC")
    w.add_argument("-D", dest="params", action="append", type=_param, default=[],
                   metavar="NAME=VALUE", help="override a param of the spec")
    w.add_argument("--runs", type=_number(int, 1, "a number of runs"), default=8, metavar="K",
                   help="diversified runs (default 8): actor order, reversed, shuffled by seed; depth bounds")
    w.add_argument("--address", default="local", metavar="ADDR",
                   help="Ray cluster: local (default: a local cluster for this run), HOST:6379 or ray://HOST:10001")
    w.add_argument("--depth", type=_depth, metavar="D", help="depth bound of every run (default: varied)")
    w.add_argument("--seed", type=_number(int, 0, "a seed"), default=0, metavar="S",
                   help="seed of the shuffled orders (default 0)")
    w.add_argument("--bits", type=_number(int, 10, "a number of bits"), default=None, metavar="B",
                   help="bitstate of 2**B bits per run (default 24, 2 MB)")
    w.add_argument("--max-states", type=STATES, metavar="N", help="states per run (default 200000)")
    w.add_argument("--timeout", type=SECONDS, metavar="S", help="stop every run after S seconds")
    w.add_argument("--first", action="store_true", help="stop every run at the first finding of any")
    w.add_argument("--format", choices=("table", "json"), default="table")
    w.add_argument("--wide", action="store_true", help="tables one line per step")
    w.add_argument("--max-input", type=INPUT_MB, metavar="MB",
                   help=f"refuse a spec file larger than MB (default {MAX_INPUT_BYTES / 2**20:g})")
    sub.add_parser("lsp", help="run the language server on stdio (needs the lsp extra: pip install 'modelcheck[lsp]')")
    sub.add_parser("schema", help="print the JSON Schema (draft 2020-12) of --format json")
    sp = sub.add_parser("splat", help="a lockdep report from a kernel log -> a .fspec model and its verdict")
    sp.add_argument("file", metavar="FILE|-", help="kernel log text (dmesg, a mail, a bug report); - for stdin")
    sp.add_argument("-o", dest="out", metavar="SPEC", help="write the generated spec here (default: printed)")
    sp.add_argument("--format", choices=("text", "json"), default="text")
    e = sub.add_parser("explain", help="what a finding kind means, why the kernel cares, usual fixes")
    e.add_argument("kind", metavar="KIND")
    return p


def _internal_error(path: str, e: Exception) -> int:
    """A bug of ours: one line and exit 3, the traceback only on request."""
    if os.environ.get("MODELCHECK_DEBUG"):
        raise e
    print(f"{printable(path)}: internal error: {type(e).__name__}: {printable(str(e))}\n"
          "  this is a bug in modelcheck; MODELCHECK_DEBUG=1 shows the traceback", file=sys.stderr)
    return 3


def _matrix(args) -> int:
    from . import matrix
    try:
        rows = matrix.run(args.file, args.grid, Limits(args.max_states, args.timeout, args.max_memory,
                                                       max_input_bytes=_input_cap(args)))
    except SpecError as e:
        print(str(e), file=sys.stderr)
        return 2
    except Exception as e:                     # a bug of ours, not bad input
        return _internal_error(args.file, e)
    print(matrix.table(args.file, rows), end="")
    return 130 if rows and rows[-1].result.stopped.startswith("interrupted") else matrix.status(rows)


def _swarm(args) -> int:
    from .cluster import ClusterError, swarm, swarming
    from .reports import report
    shown = sys.stderr.isatty()

    def progress(done, runs, states, seconds):
        if shown:
            sys.stderr.write(f"\r{printable(args.file)}: swarm {done}/{runs} runs done, "
                             f"about {states:,} states, {seconds:.0f} s   ")
            sys.stderr.flush()
    try:
        result = swarming.check_file(
            args.file, args.runs, args.address, args.depth, args.seed,
            args.bits or swarm.DEFAULT_BITS, args.max_states or swarm.DEFAULT_RUN_STATES,
            args.timeout, args.first, dict(args.params), progress, _input_cap(args))
    except SpecError as e:
        print(str(e), file=sys.stderr)
        return 2
    except ClusterError as e:
        print(f"modelcheck swarm: {e}", file=sys.stderr)
        return 2
    except Exception as e:                     # a bug of ours, not bad input
        return _internal_error(args.file, e)
    finally:
        if shown:
            sys.stderr.write("\r\x1b[K")
    if args.format == "json":
        sys.stdout.write(report.as_json([result]))
    else:
        print(report.table(result, args.wide), flush=True)
    if result.stopped.startswith("interrupted"):
        return 130
    return 0 if result.ok else 1


def _progress(path: str):
    if not sys.stderr.isatty():
        return None

    def show(g, seconds):
        rate = len(g.states) / seconds if seconds else 0
        sys.stderr.write(f"\r{printable(path)}: {len(g.states)} states, depth {g.depth[-1]}, "
                         f"{rate:,.0f} states/s, {memory_mb():.0f} MB   ")
        sys.stderr.flush()
    return show


def _input_cap(args) -> int:
    return MAX_INPUT_BYTES if args.max_input is None else int(args.max_input * 2**20)


def main(argv=None) -> int:
    """Every way out is an exit status and at most one line on stderr: Ctrl-C
    at any moment, a reader that went away, a full disk, a closed stdout."""
    try:
        if sys.stdout is None:                      # started with stdout closed (`>&-`)
            _say("modelcheck: error: standard output is closed")
            return 2
        for stream in (sys.stdout, sys.stderr):     # an ASCII terminal gets \u escapes, not a crash
            if stream is not None and hasattr(stream, "reconfigure"):
                stream.reconfigure(errors="backslashreplace")
        status = _main(argv)
        sys.stdout.flush()
        return status
    except KeyboardInterrupt:
        _say("modelcheck: interrupted")
        return 130
    except BrokenPipeError:                         # `modelcheck check ... | head`: the reader left
        _drop_stdout()
        return 141
    except OSError as e:                            # ENOSPC, EBADF, EIO writing the output
        _drop_stdout()
        _say(f"modelcheck: error: cannot write the output: {e.strerror or e}")
        return 2


def _say(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError, AttributeError):   # stderr gone too: the status says it
        pass


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit cannot fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _main(argv) -> int:
    args = _parser().parse_args(argv)
    if args.command == "explain":
        from .reports import explain
        return explain.main(args.kind)
    if args.command == "step":
        from . import step
        return step.run(args.file, dict(args.params), args.trace, args.format)
    if args.command == "lsp":
        try:
            from .editor import lsp
        except ImportError as e:
            print(f"modelcheck lsp: {e}; install the language server with: pip install 'modelcheck[lsp]'",
                  file=sys.stderr)
            return 2
        return lsp.main()
    if args.command == "splat":
        from .splat import command
        return command.run(args.file, args.out, args.format)
    if args.command == "schema":
        from .reports import schema
        return schema.main()
    if args.command == "matrix":
        return _matrix(args)
    if args.command == "swarm":
        return _swarm(args)
    if args.depth is not None and args.engine != "smt":
        _parser().error("--depth bounds the smt engine: use it with --engine smt")
    from .api import check_file
    from .cluster import ClusterError
    from .reports import report
    params = dict(args.params)
    distributed = None
    if args.distributed:
        if args.engine == "smt" or args.early:
            _parser().error("--distributed runs the explicit engine in full mode: not with "
                            + ("--engine smt" if args.engine == "smt" else "--early"))
        from .cluster.distributed import Settings
        distributed = Settings(args.address, args.partitions, gather=not args.no_gather)
    elif args.partitions or args.address != "local" or args.no_gather:
        _parser().error("--address, --partitions and --no-gather go with --distributed")
    limits = Limits(args.max_states, args.timeout, args.max_memory,
                    reduction=not args.no_reduction and not args.distributed,
                    symmetry=not args.no_symmetry,
                    max_input_bytes=_input_cap(args), early=args.early, distributed=distributed,
                    workers=args.workers)
    results, errors, status = [], [], 0
    done: list = []                                 # results and (path, error), in file order
    for path in args.files:
        try:
            progress = _progress(path) if args.engine != "smt" else None
            result = check_file(path, params, limits, progress, args.engine, args.depth)
            if progress:
                sys.stderr.write("\r\x1b[K")
        except SpecError as e:
            print(str(e), file=sys.stderr)
            errors.append(e)
            done.append((path, e))
            status = 2
            continue
        except KeyboardInterrupt:
            print(f"{printable(path)}: interrupted", file=sys.stderr)
            return 130
        except ClusterError as e:
            print(f"modelcheck check: {e}", file=sys.stderr)
            return 2
        except Exception as e:                     # a bug of ours, not bad input
            return _internal_error(path, e)
        results.append(result)
        done.append(result)
        if not result.ok:
            status = max(status, 1)
        if args.format == "table":
            brief = args.summary and result.ok      # a failing spec always shows its tables
            print(printable(result.verdict()) if brief else report.table(result, args.wide, args.all), flush=True)
        elif args.format == "lockdep":
            from .reports import lockdep
            print(lockdep.render(result), flush=True)
        if result.stopped.startswith("interrupted"):  # Ctrl-C ends the whole run
            status = 130
            break
    if args.format == "json":
        sys.stdout.write(report.as_json(results))
    if args.format == "sarif":
        from .reports import sarif
        sys.stdout.write(sarif.as_sarif(results, errors))
    if args.format == "ktap":
        from .reports import ktap
        sys.stdout.write(ktap.render(done))
    if args.html:
        try:
            from .reports import picture
            picture.write_html(args.html, results, errors)
        except OSError as e:
            print(f"{printable(args.html)}: error: cannot write: {e.strerror or e}", file=sys.stderr)
            status = 2
    if args.format == "table" and len(results) + len(errors) > 1:
        bad = [r for r in results if not r.ok]
        total = len(results) + len(errors)
        print(f"{len(results) - len(bad)} of {total} specs as expected"
              + (": " + ", ".join(printable(r.path) for r in bad) + " not" if bad else "")
              + (f"; {len(errors)} rejected: " + ", ".join(printable(e.diagnostics[0].path)
                                                         for e in errors) if errors else ""))
    return status


if __name__ == "__main__":          # pragma: no cover
    sys.exit(main())
