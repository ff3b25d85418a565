"""The `nn47` command: train one configuration, run a sweep, analyse it, benchmark."""

import argparse
import atexit
import contextlib
import gc
import os
import shlex
import signal
import sys
import time
from pathlib import Path

import numpy as np

from .lecture.params import read_params
from .lecture.settings import SLIDE_DEFAULTS, WORKBOOK_SETTINGS
from .model.data import LETTERS, glyphs, make_dataset
from .model.equations import forward
from .model.layout import Layout
from .options import BACKENDS, INTEGER_SETTINGS, NAMED, TRAIN_DEFAULTS, check_batch_size, check_integer
from .schema import DIVERGED
from .sweep import spec
from .sweep.spec import DATA_COLUMNS, DATA_DEFAULTS, LANGS

# Commands import what loads numba, scipy or matplotlib when they run, so that
# `nn47 --help` and a mistyped option answer at once.


def _widths(text):
    """--hidden H (or H1,H2,...: one width per hidden layer, checked as hidden = [...] in a file)."""
    try:
        return [int(width) for width in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a width such as 3 (integers, comma-separated), got {text!r}"
        ) from None


def _setting_type(key):
    if key == "hidden":
        return _widths
    if key in INTEGER_SETTINGS:
        return int
    return str if key in NAMED else float


# A validation set serves tuning, which one training does not do.
TRAIN_DATA = tuple(key for key in DATA_DEFAULTS if key not in ("n_val", "set"))  # the C/T glyphs: the answers shown
# nn47 trace follows the lecture's 47 numbers (its workbook too): no --hidden
TRACE_SETTINGS = {key: value for key, value in TRAIN_DEFAULTS.items() if key != "hidden"}


def add_setting_options(p, settings=TRAIN_DEFAULTS, data=TRAIN_DATA):
    """Add a --flag for each training setting in `settings` (name -> default
    shown) and for each data-set key in `data`; nn47 train and workbook share it."""
    for key, default in settings.items():
        flag = f"--{key.replace('_', '-')}"
        if isinstance(TRAIN_DEFAULTS[key], bool):
            p.add_argument(flag, dest=key, action=argparse.BooleanOptionalAction, default=default)
            continue
        p.add_argument(
            flag,
            dest=key,
            type=_setting_type(key),
            choices=NAMED.get(key),
            default=default,
            help=f"default: {default}" + (" (full batch)" if key == "batch_size" else ""),
        )
    for key in data:
        name, default = DATA_COLUMNS[key], DATA_DEFAULTS[key]  # the data seed is --data-seed, apart from --seed
        p.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            type=type(default),
            default=default,
            help=f"data set; default: {default}",
        )


def data_set(args, n_test, scale=True):
    """make_dataset from the --n-train, --flip, --noise, --data-seed options;
    the data seed is checked here so that its error names --data-seed, not --seed."""
    check_integer("--data-seed", args.data_seed, 0)
    return make_dataset(args.n_train, n_test, args.flip, args.noise, args.data_seed, scale=scale)


def checked_settings(args):
    """The training settings of nn47 train or trace, with --seed and the batch
    size checked as experiment files check them."""
    check_integer("--seed", args.seed, 0)
    check_batch_size(args.batch_size, args.n_train, "--n-train")
    return {k: getattr(args, k) for k in TRAIN_DEFAULTS if hasattr(args, k)}


def add_train_parser(commands):
    p = commands.add_parser(
        "train",
        help="train one configuration and show what it learned",
        description="Train one configuration of the 12-H-2 network (--hidden H, 3 by default; "
        "--hidden H1,H2,... for more hidden layers, the first nearest the input) on the noisy C/T data.",
    )
    add_setting_options(p)
    p.add_argument("--seed", type=int, default=0, help="seed of the run (initial weights, shuffles, dropout)")
    p.add_argument("--record-every", type=int, default=None, help="epochs between curve points")
    p.set_defaults(run=cmd_train)


def cmd_train(args):
    from .training import train  # numba

    settings = checked_settings(args)
    d = data_set(args, args.n_test)
    result = train(
        d.X_train, d.T_train, [args.seed], X_test=d.X_test, T_test=d.T_test, record_every=args.record_every, **settings
    )
    run = result.runs.iloc[0]
    print("Learning curve (E with reduction '{}'):".format(settings["reduction"]))
    print(result.curves.drop(columns=["run", "seed"]).to_string(index=False, float_format="%.6g"))
    status = (
        DIVERGED
        if run.diverged
        else f"reached E < {settings['target_loss']} at epoch {run.epochs_to_target}"
        if run.converged
        else f"stopped after {run.epochs_run} epochs"
    )
    print(
        f"\nRun {status}; train accuracy {run.train_acc:.3f}, test accuracy {run.test_acc:.3f}, "
        f"dead hidden units {run.dead_units}."
    )
    print("\nFinal parameters in the slides' order:")
    for l, (name, value) in enumerate(zip(result.layout.names, result.params[0])):
        print(f"  {l:2d}  {name:10s} {value: .6f}")
    X, T = glyphs()
    _, z, _, _ = forward(result.params[0], X, settings["activation"], settings["output"], result.layout)
    print("\nAnswers on the clean glyphs:")
    for letter, zs in zip(LETTERS, z):
        print(f"  {letter}: z1 (C) = {zs[0]:.4f}, z2 (T) = {zs[1]:.4f} -> {LETTERS[int(np.argmax(zs))]}")
    return 0


def add_workbook_parser(commands):
    p = commands.add_parser(
        "workbook",
        help="write the network as a live spreadsheet (.xlsx)",
        description="Write an .xlsx in which the forward pass, the error E and every ∂E/∂w over the training "
        "images are spreadsheet formulas: sheet 'weights' (the 47 parameters, ∂E/∂w, one "
        "steepest-descent step, η, λ, E) and one sheet per image. Defaults are the slides' own: "
        "sigmoid hidden and output units, squared error, E = Σ_p e_p.",
    )
    add_setting_options(
        p,
        {key: SLIDE_DEFAULTS.get(key, TRAIN_DEFAULTS[key]) for key in ("init", *WORKBOOK_SETTINGS)},
        data=("n_train", "flip", "noise", "seed"),
    )
    weights = p.add_mutually_exclusive_group()
    weights.add_argument("--seed", type=int, default=0, help="initial weights of this seed with --init (default 0)")
    weights.add_argument(
        "--params",
        metavar="FILE",
        help="weights from a CSV: a header of the 47 slide names (optionally after config, "
        "seed), as a results folder's params.csv",
    )
    p.add_argument("--run", dest="chosen_run", metavar="CONFIG:SEED", help="the row of a --params file with many")
    p.add_argument("--out", default="workbook.xlsx", help="the .xlsx to write (default workbook.xlsx)")
    p.set_defaults(run=cmd_workbook)


def cmd_workbook(args):
    from .lecture.xlsx import workbook  # openpyxl

    if args.params:
        theta = read_params(args.params, args.chosen_run)
        source = f"weights: {args.params}" + (f", run {args.chosen_run}" if args.chosen_run else "")
    elif args.chosen_run:
        raise ValueError("--run: chooses a row of a --params file; give --params too")
    else:
        from .model.initial import initial_params  # numba

        theta = initial_params(Layout(), args.init, [args.seed])[0]
        source = f"weights: initial, init {args.init}, seed {args.seed}"
    d = data_set(args, 1, scale=False)  # the test set goes unused
    data = f"data: {args.n_train} images, flip {args.flip}, noise {args.noise}, data seed {args.data_seed}"
    out = workbook(
        args.out,
        theta,
        d.X_train,
        d.T_train,
        notes=(source, data),
        **{key: getattr(args, key) for key in WORKBOOK_SETTINGS},
    )
    print(f"workbook: {out} (sheets weights, p1 … p{args.n_train})")
    return 0


def add_trace_parser(commands):
    p = commands.add_parser(
        "trace",
        help="trace one run update by update (weights, gradients, step sizes)",
        description="Train one configuration as nn47 train does and record every update: "
        "epoch, step, E, accuracy, the step size used, the 47 weights and the 47 "
        "gradient components (slide names). Writes OUT/trace.csv and "
        "OUT/trace.png (and OUT/trace.xlsx with --workbook).",
    )
    add_setting_options(p, TRACE_SETTINGS)
    p.add_argument("--seed", type=int, default=0, help="seed of the run (initial weights, shuffles, dropout)")
    p.add_argument("--out", default="trace", help="folder to write into (default trace; its parent must exist)")
    p.add_argument(
        "--workbook",
        action="store_true",
        help="also write trace.xlsx: the live workbook at the initial weights with a 'trace' sheet",
    )
    p.set_defaults(run=cmd_trace)


def cmd_trace(args):
    from .lecture.trace import plot_trace, trace  # numba, matplotlib
    from .lecture.xlsx import workbook  # openpyxl
    from .sweep.store import write_atomic  # pyarrow

    settings = checked_settings(args)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise ValueError(f"--out: folder {str(out.parent)!r} does not exist")
    d = data_set(args, 1, scale=False)  # no test set
    table = trace(d.X_train / 255.0, d.T_train, args.seed, **settings)
    out.mkdir(exist_ok=True)
    write_atomic(out / "trace.csv", lambda tmp: table.to_csv(tmp, index=False))
    write_atomic(out / "trace.png", lambda tmp: plot_trace(table).savefig(tmp, dpi=100, format="png"))
    if args.workbook:
        source = f"weights: initial, init {args.init}, seed {args.seed}; sheet trace: every update"
        workbook(
            out / "trace.xlsx",
            table[Layout().names].to_numpy()[0],
            d.X_train,
            d.T_train,
            notes=(source,),
            tables={"trace": table},
            **{key: settings[key] for key in WORKBOOK_SETTINGS},
        )
    print(
        f"trace: {len(table) - 1} updates, E {table['E'].iloc[0]:.6g} -> {table['E'].iloc[-1]:.6g} -> "
        f"{out}/trace.csv, {out}/trace.png" + (f", {out}/trace.xlsx" if args.workbook else "")
    )
    return 0


def add_sweep_parser(commands):
    from .sweep.store import CHUNK_RUNS  # pyarrow

    p = commands.add_parser(
        "sweep",
        help="run an experiment file's grid into a results folder",
        description="Run every configuration × seed of an experiment file; results go to "
        "OUT (default results/NAME): runs, curves and params tables, "
        "manifest.json. Ctrl-C stops it with the finished chunks saved; "
        "re-running finishes an interrupted sweep.",
    )
    p.add_argument("spec", help="experiment file (experiments/*.toml)")
    p.add_argument("--jobs", type=int, default=1, help="parallel workers (default 1: one process, all cores)")
    p.add_argument("--backend", choices=BACKENDS, default="loky")
    p.add_argument("--scheduler", help="dask scheduler address tcp://HOST:PORT (backend dask)")
    p.add_argument("--out", help="results folder (default results/NAME)")
    p.add_argument(
        "--overwrite", action="store_true", help="replace another experiment's results in OUT (and its analysis)"
    )
    p.add_argument("--chunk-runs", type=int, default=CHUNK_RUNS, help="runs per kernel call")
    p.add_argument(
        "--tables", default="csv,parquet", help="formats of the tables, comma-separated: csv, parquet (default: both)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar (and, with --analyze, no printed summary)")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print what the file will cost (runs, tuning, work, time, memory, disk) and write nothing",
    )
    p.add_argument(
        "--analyze",
        action="store_true",
        help="then analyse OUT as nn47 analyze does, in this process (its libraries are loaded already)",
    )
    p.set_defaults(run=cmd_sweep)


SWEEP_OPTIONS = {
    "jobs": "--jobs",
    "chunk_runs": "--chunk-runs",
    "backend": "--backend",
    "scheduler": "--scheduler",
    "tables": "--tables",
}


def cmd_sweep(args):
    from .sweep.driver import SweepInterrupted, check_options  # numba
    from .sweep.durable import WriteError
    from .sweep.lock import FolderBusy
    from .sweep.store import ResultsFolderError  # pyarrow
    from .sweep.tune import tune_and_sweep  # numba

    tables = tuple(t.strip() for t in args.tables.split(",") if t.strip())
    with terminate_as_interrupt() as received:
        try:
            check_options(args.jobs, args.backend, args.scheduler, args.chunk_runs, tables, names=SWEEP_OPTIONS)
            experiment = spec.load(args.spec)
            out = Path(args.out) if args.out else Path("results") / experiment.name
            if args.dry_run:
                from .sweep.estimate import dry_run

                print("\n".join(dry_run(experiment, args.chunk_runs, out, tables)))
                return 0
            *tuning, report = tune_and_sweep(
                experiment,
                out,
                jobs=args.jobs,
                backend=args.backend,
                scheduler=args.scheduler,
                overwrite=args.overwrite,
                quiet=args.quiet,
                chunk_runs=args.chunk_runs,
                tables=tables,
            )
        except (spec.SpecError, ResultsFolderError, FolderBusy, ValueError) as error:
            print(f"nn47 sweep: {error}", file=sys.stderr)
            return 2
        except WriteError as error:  # a full disk: what is saved stays, and the same command goes on from it
            print(
                f"nn47 sweep: {error}. The sweep stopped; what it finished is kept in {out}. "
                f"Free some space, then run the same command again to finish: nn47 {shlex.join(args.argv)}",
                file=sys.stderr,
            )
            return 1
        except KeyboardInterrupt as stop:  # SweepInterrupted once the folder is claimed
            saved = f"; {stop}" if isinstance(stop, SweepInterrupted) else " before any run was trained"
            print(f"\nnn47 sweep: interrupted{saved}", file=sys.stderr)
            return 128 + received[0]
    for chunk, error in report.failures:
        print(f"nn47 sweep: chunk {chunk.id} failed ({chunk.describe()}):\n{error}", file=sys.stderr)
    if report.failures:  # report.folder: OUT, or the tuning rung's folder inside it
        print(
            f"nn47 sweep: {len(report.failures)} chunk(s) failed; the others are saved in {report.folder}/chunks. "
            f"Fix the cause and run the same command again to finish.",
            file=sys.stderr,
        )
        return 1
    if tuning:
        print(
            f"tuning: {sum(r.n_runs for r in tuning)} runs in {len(tuning)} rung(s) "
            f"({sum(r.ran for r in tuning)} trained now in {sum(r.seconds for r in tuning):.1f} s) "
            f"-> {out}/tuning.csv"
        )
    rate = report.ran / report.seconds if report.seconds > 0 else float("nan")
    print(
        f"{report.n_runs} runs ({report.ran} trained now in {report.seconds:.1f} s, {rate:,.1f} runs/s; "
        f"train() {report.train_seconds:.1f} s summed over chunks, writing tables {report.write_seconds:.1f} s) -> "
        + ", ".join(f"{out}/{t}.{f}" for f in tables for t in ("runs", "curves", "params"))
    )
    if args.analyze:
        return analyze_folder(out, quiet=args.quiet)
    return 0


@contextlib.contextmanager
def terminate_as_interrupt():
    """Within the block SIGTERM stops the work as Ctrl-C does; yields a list
    holding the signal that stopped it (SIGINT unless SIGTERM came)."""
    received = [signal.SIGINT]

    def handle(signum, frame):
        received[0] = signum
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, handle)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, before)


def add_analyze_parser(commands):
    p = commands.add_parser(
        "analyze",
        help="tables, figures and report.md for a results folder",
        description="Read a results folder (runs.csv, curves.csv, params.csv, manifest.json) "
        "and write into it: summary.csv, main_effects.csv, paired_tests.csv "
        "(lr_sensitivity.csv, lr_ranges.csv with an lr axis), PNG figures and "
        "report.md.",
    )
    p.add_argument("path", help="results folder, e.g. results/default")
    p.add_argument(
        "--run",
        dest="chosen_run",
        metavar="CONFIG:SEED",
        help="the run whose learned hidden units are drawn (default: the best run)",
    )
    p.add_argument("--quiet", action="store_true", help="print no summary")
    p.add_argument(
        "--lang",
        choices=LANGS,
        help="the language of report.md and the figures (default: the experiment file's [analysis] lang, else en)",
    )
    p.set_defaults(run=cmd_analyze)


def cmd_analyze(args):
    return analyze_folder(args.path, run=args.chosen_run, quiet=args.quiet, lang=args.lang)


def analyze_folder(path, run=None, quiet=False, lang=None):
    """nn47 analyze PATH, and nn47 sweep --analyze after its sweep: the report, and the time it took."""
    start = time.perf_counter()
    from .analysis.analyze import analyze  # scipy, matplotlib

    # At exit Python collects the objects of every module it loaded, pandas' and matplotlib's, a
    # noticeable share of a short analysis. The process ends anyway: freeze them first.
    atexit.register(gc.freeze)
    from .sweep.lock import LOCK, holder
    from .sweep.store import unfinished  # pyarrow

    pid = holder(path)
    if pid is not None:
        print(
            f"nn47 analyze: {path} is being swept (pid {pid} holds {Path(path) / LOCK}): "
            f"its tables are not final; analyse it when the sweep has ended",
            file=sys.stderr,
        )
        return 2
    message = unfinished(path)
    if message:
        print(f"nn47 analyze: {message}", file=sys.stderr)
        return 2
    report = analyze(path, run=run, quiet=quiet, lang=lang)
    print(f"report: {report} (analysis {time.perf_counter() - start:.1f} s)")
    return 0


def add_bench_parser(commands):
    p = commands.add_parser(
        "bench",
        help="benchmarks: optimizer convergence and engine throughput",
        description="Benchmarks. kernel: the engine against batched numpy on one job, "
        "and the warm-start cost (printed). convergence: success and time "
        "to target per optimizer. throughput: one training job by every "
        "implementation, scaling, compile time, memory. scale: sweep and "
        "analysis cost at 10^4, 10^5, 10^6 runs. realjob: make sweep's own job "
        "against the throughput job. all: every study, with "
        "bench.md. Tables and figures go to OUT.",
    )
    p.add_argument("what", choices=("kernel", "convergence", "throughput", "scale", "realjob", "all"))
    p.add_argument("--quick", action="store_true", help="CI-sized smoke run (the numbers mean little)")
    p.add_argument("--out", default="results/bench", help="output folder (default results/bench)")
    p.set_defaults(run=cmd_bench)


def cmd_bench(args):
    from .bench.command import cmd_bench  # numba, scipy, matplotlib

    return cmd_bench(args)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="nn47", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    add_train_parser(commands)
    add_sweep_parser(commands)
    add_analyze_parser(commands)
    add_bench_parser(commands)
    add_workbook_parser(commands)
    add_trace_parser(commands)
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)  # the command, to repeat in messages
    try:
        return args.run(args)
    except ValueError as error:
        print(f"nn47 {args.command}: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (nn47 train | head): stop quietly, as Unix tools do.
        # stdout goes to /dev/null so that Python's flush at exit cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
