"""`nn47 bench kernel|convergence|throughput|all`: run the benchmarks, write
their tables, figures and bench.md."""

import sys
import time
from pathlib import Path

import numba
import pandas as pd

from ..model.layout import Layout
from ..sweep.provenance import cpu_text
from ..training import auto_block_size
from . import figures
from .convergence import convergence_tables
from .deep import DEEP_BATCH, DEEP_HIDDEN, deep_table
from .markdown import (
    convergence_section,
    deep_section,
    realjob_section,
    roofline_section,
    throughput_section,
    write_markdown,
)
from .realjob import realjob_table
from .roofline import deep_roofline_table, roofline_table
from .scale import scale_figure, scale_section, scale_table
from .sizes import FULL, QUICK, BenchError
from .throughput import kernel_benchmark, kernel_text, throughput_table


def run_convergence(out, sizes):
    runs, lr_table, summary = convergence_tables(out, sizes)
    runs.to_csv(out / "convergence_runs.csv", index=False)
    lr_table.to_csv(out / "convergence_lr.csv", index=False, float_format="%.6g")
    summary.to_csv(out / "convergence.csv", index=False, float_format="%.6g")
    drawn = figures.convergence_figures(runs, lr_table, out)
    tuned = ", ".join(
        f"{r.optimizer} {r.lr:g} ({r.success_rate:.0%})" for r in summary[summary["lr_choice"] == "tuned"].itertuples()
    )
    print(f"convergence: {len(runs)} runs; tuned lr (success on the evaluation seeds): {tuned}")
    return convergence_section(runs, lr_table, summary, drawn, sizes)


def run_throughput(out, sizes):
    table = pd.concat([throughput_table(sizes), deep_table(sizes)], ignore_index=True)
    table.to_csv(out / "throughput.csv", index=False, float_format="%.6g")
    figure = figures.throughput_figure(table, out)
    main = table[table["study"] == "implementations"]
    print(
        "throughput (sample-steps/s): "
        + ", ".join(f"{r.implementation} {r.sample_steps_per_s:.3g}" for r in main.itertuples())
    )
    roofline = roofline_table(sizes.job[2]).assign(cpu=cpu_text())  # the machine the limits are of
    roofline.to_csv(out / "roofline.csv", index=False, float_format="%.6g")
    float32 = table[table["study"] == "float32"].set_index("implementation")["sample_steps_per_s"]
    engine_speed = {
        "float64": main.set_index("implementation").loc["engine", "sample_steps_per_s"],
        "float32": float32.get("engine", float("nan")),
    }
    deep_speed = table[table["study"].str.startswith("deep ") & (table["implementation"] == "engine")]
    deep_roofline = deep_roofline_table(
        roofline,
        DEEP_HIDDEN,
        DEEP_BATCH,
        # the layout the engine's rule picks for the job (roofline.deep_counts models both)
        auto_block_size(
            sizes.deep[0], numba.get_num_threads(), Layout(64, DEEP_HIDDEN, 10).size, min(DEEP_BATCH, sizes.deep[2])
        ),
        numba.get_num_threads(),
        dict(zip(deep_speed["study"].str.removeprefix("deep "), deep_speed["sample_steps_per_s"])),
    ).assign(cpu=cpu_text())
    deep_roofline.to_csv(out / "deep_roofline.csv", index=False, float_format="%.6g")
    return (
        throughput_section(table, figure, sizes)
        + roofline_section(roofline, engine_speed)
        + deep_section(table, roofline, deep_roofline, sizes, engine_speed)
    )


def run_scale(out, sizes):
    table = scale_table(out, sizes)
    table.to_csv(out / "scale.csv", index=False, float_format="%.6g")
    return scale_section(table, scale_figure(table, out))


def run_realjob(out, sizes):
    table = realjob_table(out, sizes)
    table.to_csv(out / "realjob.csv", index=False, float_format="%.6g")
    print("realjob: " + ", ".join(f"{r.measure} {r.value:.3g} {r.unit}" for r in table.itertuples()))
    return realjob_section(table, sizes)


STUDIES = {"convergence": run_convergence, "throughput": run_throughput, "scale": run_scale, "realjob": run_realjob}


def cmd_bench(args):
    sizes = QUICK if args.quick else FULL
    command = "nn47 bench " + args.what + (" --quick" if args.quick else "")
    try:
        if args.what == "kernel":
            print(kernel_text(kernel_benchmark(sizes)))
            return 0
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        sections = []
        for name, run in STUDIES.items():
            if args.what in (name, "all"):
                start = time.perf_counter()
                sections.append(run(out, sizes))
                print(f"{name}: {time.perf_counter() - start:.0f} s")
    except BenchError as error:
        print(f"nn47 bench: {error}", file=sys.stderr)
        return 1
    if args.what == "all":  # bench.md holds every study; one alone leaves it as it was
        write_markdown(out / "bench.md", sections, command)
        print(f"wrote {out / 'bench.md'}")
    return 0
