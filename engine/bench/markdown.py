"""bench.md: the tables and figures of one `nn47 bench all`, with the words
around them written from the same constants the benchmarks use."""

import numba
import numpy as np

from ..analysis.format import epochs_interval, markdown_table, num
from ..schema import DIVERGED
from ..sweep.provenance import cpu_text, machine, versions
from . import references
from .convergence import LR_GRID, N_TRAIN, PROBLEMS, PROFILE_TAUS, TARGET, TUNE_HALVING, chosen_runs
from .deep import DEEP_BATCH, DEEP_LR, NOT_RUN, shape_text
from .roofline import floor_seconds
from .throughput import FLOAT32_LOSS_RTOL, JOB_LR, LOSS_RTOL, MIN_EPOCHS, REFERENCE_MAX_RUNS


def ert_text(ert):
    return "never" if not np.isfinite(ert) else f"{ert:.4g}"


def ert_ranking(group, column):
    """Optimizers from lowest to highest ERT in `column` ('never' without a success)."""
    ranked = group.sort_values([column, "optimizer"], kind="stable")
    return " < ".join(f"{r.optimizer} {ert_text(getattr(r, column))}" for r in ranked.itertuples())


def convergence_section(runs, lr_table, summary, figures, sizes):
    budget = runs["epochs"].iloc[0]
    by_rule = lr_table.set_index("optimizer")
    best, fastest = by_rule[by_rule["best"]], by_rule[by_rule["lowest_ert"]]
    slower = (best["ert_epochs"] / fastest["ert_epochs"]).max()
    gain = (best["success_rate"] - fastest["success_rate"]).max()
    header = [
        "optimizer",
        "settings",
        "runs",
        "success",
        "ERT epochs",
        f"ERT at {budget // 2} epochs",
        DIVERGED,
        "epochs to target, median [95% CI]",
        "grad evals, median [95% CI]",
        *(f"profile ρ({tau:g})" for tau in PROFILE_TAUS),
    ]
    tables, rankings = [], []
    for choice, group in summary.groupby("lr_choice", sort=False):
        rows = [
            [
                r.optimizer,
                r.settings,
                r.runs,
                f"{r.success_rate:.0%}",
                ert_text(r.ert_epochs),
                ert_text(r.ert_epochs_half_budget),
                r.diverged,
                epochs_interval(r.epochs_median, r.epochs_lo, r.epochs_hi),
                epochs_interval(r.grad_evals_median, r.grad_evals_lo, r.grad_evals_hi),
                *(f"{getattr(r, f'profile_tau_{tau:g}'):.0%}" for tau in PROFILE_TAUS),
            ]
            for r in group.itertuples()
        ]
        tables += [
            f"**{'Tuned' if choice == 'tuned' else 'Default'} settings**"
            + (
                " (tuned on the tuning seeds, measured on the evaluation seeds)"
                if choice == "tuned"
                else " (Saito's book: lr, and the optimizers' usual hyperparameters)"
            ),
            "",
            markdown_table(header, rows),
            "",
        ]
        rankings.append(
            f"- {choice}: at {budget} epochs {ert_ranking(group, 'ert_epochs')}; at {budget // 2} "
            f"epochs {ert_ranking(group, 'ert_epochs_half_budget')}"
        )
    tuned = chosen_runs(runs, "tuned")
    per_problem = tuned.assign(problem=tuned["activation"] + " · " + tuned["init"]).pivot_table(
        index="optimizer", columns="problem", values="success", observed=True, sort=False
    )
    grid = "; ".join(f"{o} {', '.join(f'{lr:g}' for lr in g)}" for o, g in LR_GRID.items())
    return [
        "## Optimizer convergence",
        "",
        f"Each optimizer trains {sizes.seeds} evaluation seeds (the same initial weights for every optimizer "
        f"and setting: paired) on each of {len(PROBLEMS)} problems, activation × init "
        f"({', '.join(f'{a} · {i}' for a, i in PROBLEMS)}), on the noisy C/T training set of {N_TRAIN} images: "
        f"full batch, mean cross-entropy, softmax outputs, at most {budget} epochs. Success: E < ε = {TARGET:g} "
        f"and 100 % training accuracy (with the mean cross-entropy a misclassified sample alone gives "
        f"E ≥ log 2 / {N_TRAIN} = {np.log(2) / N_TRAIN:.4f}, so E < ε implies it; it is checked anyway). "
        f"Time to target counts epochs and gradient evaluations (the same here: one full-batch gradient per "
        f"epoch); a run that never succeeded counts as never, so a median is 'never' unless more than half "
        f"succeeded; intervals are percentile-bootstrap 95 %. ERT, COCO's expected running time, is the epochs "
        f"run by all runs, successful or not, per success: the cost of one success when failed runs are "
        f"restarted.",
        "",
        f"**Tuned** is the protocol of `make sweep` (experiments/default.toml's `[tune]`): per optimizer, "
        f"{sizes.tune_trials} points of a scrambled Sobol sequence over its lr and its own hyperparameters "
        f"(the default ranges of `engine.sweep.search`), successive halving with η = {TUNE_HALVING}, objective "
        f"the ERT over the six problems on {sizes.tune_seeds} tuning seeds that follow the evaluation seeds; "
        f"the setting chosen there is then measured on the evaluation seeds (the tuning sweep is kept in "
        f"`convergence_tuning/`, its experiment file in `convergence_tuning.toml`). **Default** is the lr of "
        f"Saito's book with the usual hyperparameters. ρ(τ) is the Dolan–Moré performance profile among the "
        f"six optimizers at the same choice: the share of (problem, seed) pairs on which the optimizer "
        f"succeeded within τ × the fastest optimizer's epochs (ρ(1): among the fastest; optimizers that tie "
        f"for fastest all count).",
        "",
        *tables,
        "**ERT and the budget.** Much of an ERT can come from a few runs that never succeed and spend the "
        "whole budget, so the ranking depends on it. The ERT the same runs give if they had stopped at half "
        "the budget (a run stops at success, so the epochs before are the same):",
        "",
        *rankings,
        "",
        "**Success rate per problem at the tuned settings**",
        "",
        markdown_table(
            ["optimizer", *per_problem.columns],
            [[o, *(f"{v:.0%}" for v in values)] for o, values in per_problem.iterrows()],
        ),
        "",
        f"**Learning-rate grids** (sensitivity, on the evaluation seeds: {grid}). `convergence_lr.csv` holds "
        f"every optimizer × lr pooled over problems and seeds, epochs to target with its median and bootstrap "
        f"interval; `lowest_ert` marks the grid's lr of lowest ERT, `best` the lr `nn47 analyze` would pick "
        f"(highest success rate first: its lrs have up to {slower:.3g}× the lowest ERT here, for success "
        f"rates that differ by {gain:.1%} at most). Both are measured on the evaluation seeds, so neither "
        f"is a fair choice; the tuned settings above are.",
        "",
        *(f"![{caption}]({name})" for name, caption in figures.items()),
        "",
        "Tables: `convergence.csv` (the rows above), `convergence_lr.csv` (the grids), `convergence_runs.csv` "
        "(every run: `lr_choice` grid or tuned).",
        "",
    ]


def throughput_section(table, figure, sizes):
    def rows_of(study):
        return table[table["study"] == study]

    def speed_rows(study):
        return [
            [
                r.implementation,
                r.runs,
                r.epochs,
                f"{r.seconds_best:.3f}",
                f"{r.seconds_median:.3f}",
                f"{r.sample_steps_per_s:.3g}",
                f"{r.engine_speedup:.3g} ({r.engine_speedup_lo:.3g}–{r.engine_speedup_hi:.3g})",
                f"{r.loss_rel_diff:.1e}",
            ]
            for r in rows_of(study).itertuples()
        ]

    speed_header = [
        "implementation",
        "runs",
        "epochs",
        "best s",
        "median s",
        "sample-steps/s",
        "time ÷ engine's (rounds' range)",
        "loss rel. diff.",
    ]
    runs, epochs, samples = sizes.job
    scaling = rows_of("runs_per_call").pivot(index="runs", columns="implementation", values="sample_steps_per_s")
    scaling = scaling[rows_of("runs_per_call")["implementation"].unique()]
    probe_header = [
        "study",
        "implementation",
        "runs",
        "epochs",
        "process s",
        "import s",
        "first call s",
        "RSS after import MiB",
        "peak RSS MiB",
        "note",
    ]
    probes = [
        [
            r.study,
            r.implementation,
            r.runs,
            r.epochs,
            f"{r.process_s:.2f}",
            f"{r.import_s:.2f}",
            f"{r.first_call_s:.2f}",
            f"{r.rss_after_import_mb:.0f}",
            f"{r.peak_rss_mb:.0f}",
            r.note,
        ]
        for r in table[table["study"].isin(["start", "memory"])].itertuples()
    ]
    absent = [name for name, ok in references.available().items() if not ok]
    return [
        "## Engine throughput",
        "",
        f"The job: {runs} runs × {epochs} epochs × {samples} samples of full-batch Adam (lr {JOB_LR:g}), "
        f"sigmoid hidden units, softmax, cross-entropy, mean, float64 (float32 in its own table), every run "
        f"from its own Xavier "
        f"weights. Implementations: the engine's kernel ({numba.get_num_threads()} threads, numba's thread count); "
        f"`engine.bench.references`: plain numpy batched across runs, numpy one run at a time, PyTorch "
        f"batched with the gradient written out, and `jax.jit(jax.vmap(...))`, the last two where "
        f"installed. numpy and torch run on one thread (threadpoolctl, where installed, limits numpy's "
        f"BLAS; torch.set_num_threads): their default two spin-wait between the job's small operations and "
        f"were several times slower here; JAX splits the runs over one XLA CPU device per core "
        f"(`{references.JAX_DEVICES_FLAG}`)" + (f" (not installed here: {', '.join(absent)})" if absent else "") + ". "
        f"Sample-steps/s = runs · samples · epochs / best seconds; 'time ÷ engine's' is the best time "
        f"over the engine's on the same job; every implementation must end at the engine's final losses "
        f"(largest relative difference shown; the benchmark stops above {LOSS_RTOL:g}). Each point: a "
        f"one-epoch warm-up call of each implementation, then the best and median of {sizes.repeats} calls, "
        f"taken in rounds of one call of each (a busy spell of the machine falls on all alike), all in one "
        f"process.",
        "",
        "**The same job, every implementation**",
        "",
        markdown_table(speed_header, speed_rows("implementations")),
        "",
        "**Scaling with runs per call** (sample-steps/s; epochs chosen so that a point is about "
        f"{sizes.work:.0e} sample-steps, at least {MIN_EPOCHS} (fewer would time each run's fixed cost, its "
        f"final evaluation), at most {sizes.max_epochs}; references only up to "
        + ", ".join(f"{n} {m:,}" for n, m in REFERENCE_MAX_RUNS.items())
        + " runs: beyond, a call takes "
        "too long here)",
        "",
        markdown_table(
            ["runs", *scaling.columns], [[f"{n:,}", *(num(v) for v in row)] for n, row in scaling.iterrows()]
        ),
        "",
        "**Scaling with epochs** (engine; the per-call cost shows at few epochs)",
        "",
        markdown_table(speed_header, speed_rows("epochs")),
        "",
        f"**Jobs**: the same runs in one process with {numba.get_num_threads()} threads (engine) or 1, "
        "or split over 2 loky processes with 1 thread each",
        "",
        markdown_table(speed_header, speed_rows("parallel")),
        "",
        *float32_lines(rows_of("float32"), speed_header, speed_rows("float32")),
        *rounds_lines(table, sizes),
        "**Start-up, compilation and peak memory**, each in a fresh Python process: process s is the whole "
        "process from the parent's side, import s the time to import the engine, first call s the first "
        "training call (numba compilation or loading its cache; importing torch or jax and JAX's "
        "compilation for the references), memory the process's peak resident set size "
        "(VmHWM of `/proc/self/status`), after the imports and at the end. Target for a warm start: "
        "under 2 s" + ("" if sizes.cold_compile else "; the cold compilation is skipped in --quick mode") + ".",
        "",
        markdown_table(probe_header, probes),
        "",
        f"![Throughput]({figure})",
        "",
        "Table: `throughput.csv` (every row above).",
        "",
    ]


def rounds_lines(table, sizes):
    """Engine against JAX on the job in many alternating rounds, per dtype: the ratio's median and spread."""
    lines = []
    for dtype in ("float64", "float32"):
        rows = table[table["study"] == f"rounds {dtype}"].set_index("implementation")
        if "jax_batched" not in rows.index:
            continue
        jax, engine = rows.loc["jax_batched"], rows.loc["engine"]
        lines.append(
            f"- {dtype}: engine {engine.sample_steps_per_s:.3g} sample-steps/s, JAX {jax.sample_steps_per_s:.3g} "
            f"(best calls); JAX's time ÷ the engine's, round by round: median {jax.engine_speedup_median:.3g}×, "
            f"range {jax.engine_speedup_lo:.3g}–{jax.engine_speedup_hi:.3g}× (best ÷ best {jax.engine_speedup:.3g}×)"
        )
    if not lines:
        return []
    return [
        f"**Engine ÷ `jax.jit(jax.vmap)` in {sizes.rounds} alternating rounds** (the job, one call of each "
        f"per round; above 1 the engine is faster; CPU {cpu_text()}):",
        "",
        *lines,
        "",
    ]


def float32_lines(rows, header, table_rows):
    """The float32 table, the engine's float32 speed-up over its float64, and the final losses' agreement."""
    best = rows.set_index("implementation")["seconds_best"]
    engine64 = rows.set_index("implementation").loc["engine, float64"]
    jax = (
        f"{best['jax_batched'] / best['engine']:.3g}× the sample-steps per second of `jax.jit(jax.vmap)` "
        f"in float32 (target ≥ 8×)"
        if "jax_batched" in best
        else "JAX is not installed here, so there is no float32 JAX row"
    )
    return [
        '**float32**: the same job with `dtype = "float32"` in the engine and float32 arrays in the '
        "references; 'time ÷ engine's' and the loss difference are against the engine in float32, and the "
        "last row is the engine in float64. float32 rounds differently from float64, so final losses "
        f"agree to float32's accumulated rounding, not bit for bit (the benchmark stops above "
        f"{FLOAT32_LOSS_RTOL:g}).",
        "",
        markdown_table(header, table_rows),
        "",
        f"Engine float32: {engine64.seconds_best / best['engine']:.3g}× the sample-steps per second of "
        f"float64 (target ≥ 1.6×); {jax}. Final losses, float32 against float64 (the same initial weights "
        f"rounded to float32): largest relative difference {engine64.loss_rel_diff:.1e}.",
        "",
    ]


def roofline_section(table, engine_speed):
    """Work, time and limits per kernel section; engine_speed: {dtype: sample-steps/s of the
    throughput job in this run, all threads}."""
    limits = table.groupby("dtype", sort=False).first()
    rows = [
        [
            r.dtype,
            r.section,
            f"{r.flops:.0f}",
            f"{r.bytes:.0f}",
            f"{r.exp_log:g}",
            f"{r.divisions:.3g}",
            f"{r.ns_per_sample_step:.2f}",
            f"{r.compute_frac:.0%}",
            f"{r.l1_frac:.0%}",
            f"{r.exp_frac:.0%}",
            f"{r.div_frac:.0%}",
            r.binds,
        ]
        for r in table.itertuples()
    ]
    lines = []
    for dtype, group in table.groupby("dtype", sort=False):
        lim = limits.loc[dtype]
        floor = floor_seconds(group)  # the whole step, each section at its binding limit, one core
        measured = group["ns_per_sample_step"].sum() * 1e-9
        cores = numba.get_num_threads()
        lines.append(
            f"- {dtype}: limits per core {lim.peak_flops:.3g} flops/s (multiply and add, no FMA), L1 "
            f"{lim.l1_bytes_s:.3g} B/s, L2 {lim.l2_bytes_s:.3g} B/s, {lim.exp_per_s:.3g} exp/s, "
            f"{lim.div_per_s:.3g} divisions/s. One sample-step "
            f"takes {measured * 1e9:.2f} ns on one core ({1 / measured:.3g}/s; × {cores} threads = "
            f"{cores / measured:.3g}/s; the throughput job measured {engine_speed.get(dtype, float('nan')):.3g}/s). "
            f"At every section's binding limit it would take {floor * 1e9:.2f} ns: at most "
            f"{cores / floor:.3g} sample-steps/s on {cores} cores."
        )
    binds = "; ".join(
        f"{dtype}: " + ", ".join(f"{r.section} by {r.binds}" for r in group.itertuples())
        for dtype, group in table.groupby("dtype", sort=False)
    )
    return [
        "## Roofline",
        "",
        f"Measured on CPU {cpu_text()}. What binds each section there: {binds}.",
        "",
        "Each section of one sample-step of the throughput job (per run, per sample; the update's "
        "once-per-step work divided by the samples): flops and bytes moved, counted from the code "
        "(`engine/bench/roofline.py`: every array element read or written in the inner loops), exp/log "
        "calls, the measured time on one thread (one block of lanes; differences of cumulative timings), and "
        "the share of each limit that rate reaches: arithmetic (independent multiply-add chains), L1 "
        "bandwidth (y ← y + a·x in L1), exp calls (fastmath's exp over a block) and the divider "
        "(1/(1 + x) over a block; divisions and square roots), each measured by a "
        "numba microbenchmark in this run. 'binds' is the limit the section comes closest to. The "
        "counts are upper bounds (LLVM keeps some elements in registers) and the CPU overlaps one "
        "section with the next, so a section timed as a difference can come out short: a share above "
        "100 % says that, not a broken limit; exp/log counts every call as one exp.",
        "",
        markdown_table(
            [
                "dtype",
                "section",
                "flops",
                "bytes",
                "exp/log",
                "÷ and √",
                "ns / sample-step",
                "of compute peak",
                "of L1 bandwidth",
                "of exp rate",
                "of divider",
                "binds",
            ],
            rows,
        ),
        "",
        *lines,
        "",
        "Table: `roofline.csv`.",
        "",
    ]


def deep_section(table, roofline, deep_roofline, sizes, engine_speed):
    """bench.md's section on the deep job: each implementation per dtype, and its roofline
    beside the throughput job's; engine_speed: {dtype: the throughput job's sample-steps/s}."""
    runs, epochs, samples = sizes.deep
    rows, refused = [], set()
    for r in table[table["study"].str.startswith("deep ")].itertuples():
        if r.seconds_best != r.seconds_best:  # NaN: the engine did not run
            refused.add(r.note.removeprefix(NOT_RUN))
            continue
        rows.append(
            [
                r.study.removeprefix("deep "),
                r.implementation,
                f"{r.seconds_best:.3f}",
                f"{r.seconds_median:.3f}",
                f"{r.sample_steps_per_s:.3g}",
                "–"
                if r.engine_speedup != r.engine_speedup
                else f"{r.engine_speedup_median:.3g} ({r.engine_speedup_lo:.3g}–{r.engine_speedup_hi:.3g})",
                f"{r.loss_rel_diff:.1e}",
            ]
        )
    cores = numba.get_num_threads()
    bounds = []
    for r in deep_roofline.itertuples():
        twelve = roofline[roofline["dtype"] == r.dtype]
        flops, moved, lim = twelve["flops"].sum(), twelve["bytes"].sum(), twelve.iloc[0]
        bound = cores / floor_seconds(twelve)
        measured = engine_speed.get(r.dtype, np.nan)
        bounds += [
            [
                f"12-3-2 (throughput job), {r.dtype}",
                f"{flops:.0f}",
                f"{moved:.0f}",
                f"{flops / moved:.2f}",
                f"{cores * lim.peak_flops / flops:.3g}",
                f"{cores * lim.l1_bytes_s / moved:.3g} (L1)",
                f"{bound:.3g}: each section at its limit (above)",
                num(measured),
                f"{measured / bound:.0%}",
            ],
            [
                f"{shape_text()} (deep job, {r.layout}), {r.dtype}",
                f"{r.flops:.0f}",
                f"{r.bytes:.0f}",
                f"{r.flops_per_byte:.2f}",
                f"{r.compute_bound:.3g}",
                f"{r.memory_bound:.3g} " + ("(L1)" if r.layout == "per-run" else f"({r.block_mb:.1f} MiB a block)"),
                f"{min(r.compute_bound, r.memory_bound):.3g}: {r.binds}",
                num(r.engine),
                "–" if r.engine != r.engine else f"{r.engine_of_bound:.0%}",
            ],
        ]
    return [
        "## The deep job",
        "",
        f"DLfS ch. 6's network on scikit-learn's digits: {shape_text()}, ReLU hidden units, softmax, "
        f"cross-entropy, mean, He initial weights; {runs} runs × {epochs} epochs × {samples} samples in "
        f"mini-batches of {DEEP_BATCH} ({epochs * -(-samples // DEEP_BATCH)} updates of plain SGD, lr "
        f"{DEEP_LR:g}, per run), every run in its own order of the samples each epoch (the engine's shuffle, "
        "which the references take over), float64 and float32. Implementations: the engine "
        f"({cores} threads) and `engine.bench.deep_references`: numpy, PyTorch (batched matrix products, the "
        "gradient written out, one thread each as in the throughput job) and `jax.jit(jax.vmap(...))` "
        f"(one XLA CPU device per core), where installed. {sizes.deep_rounds} alternating rounds of one call "
        "each after a one-epoch warm-up; each call ends with E on all samples (not counted in "
        "sample-steps). 'time ÷ engine's' is the median over rounds of each round's ratio (range in "
        "brackets): above 1 the engine is faster. Every implementation ends at the same final losses "
        f"(the benchmark stops above {LOSS_RTOL:g}, float32 {FLOAT32_LOSS_RTOL:g}). CPU {cpu_text()}.",
        "",
        *(f"**The engine did not run** ({note}); the losses are held to numpy's." for note in sorted(refused)),
        *([""] if refused else []),
        markdown_table(
            ["dtype", "implementation", "best s", "median s", "sample-steps/s", "time ÷ engine's", "loss rel. diff."],
            rows,
        ),
        "",
        "**Roofline of the deep job beside the throughput job's** (work per sample-step; bounds and the "
        f"engine's rate in sample-steps/s on {cores} cores). The deep job's work is counted for the layout "
        "the engine's rule picks for it, named in the row (`roofline.deep_counts`). "
        "In the per-run pass (one run, 128 samples side by side) each weight is read once per 128 samples, "
        "but each product loop keeps its sums in memory, 4 products per pass over a row, so its bandwidth "
        "is the L1 triad's (the roofline above). In the lane layout (one run per SIMD lane) each weight is "
        "read once per tile of 4 samples forward and once back and its gradient read and written once per "
        "tile; its bandwidth is a triad's over arrays the size of one block's w and g (the level of the "
        "memory that holds them). Bandwidths are per core times the cores (an upper bound where they share "
        "it); compute is the roofline's multiply-add peak (no fused multiply-add: results keep their bits). "
        "The throughput job's bound is the roofline section's (each section at its binding limit).",
        "",
        markdown_table(
            [
                "job",
                "flops",
                "bytes",
                "flops/byte",
                "compute allows",
                "bandwidth allows",
                "bound: what binds",
                "engine",
                "engine ÷ bound",
            ],
            bounds,
        ),
        "",
        "Table: `throughput.csv` (studies `deep float64`, `deep float32`), `deep_roofline.csv`.",
        "",
    ]


def ratio_text(row):
    """A realjob row's ratio, with its spread over rounds where it has one."""
    if row.ratio != row.ratio:
        return ""
    if row.ratio_lo != row.ratio_lo:
        return f"{row.ratio:.2f}"
    return f"{row.ratio:.2f} ({row.ratio_lo:.2f}–{row.ratio_hi:.2f})"


def realjob_section(table, sizes):
    """bench.md's section on make sweep's own job (engine.bench.realjob)."""
    rows = [[r.measure, f"{r.value:.3g}", r.unit, r.reference, ratio_text(r)] for r in table.itertuples()]
    job = "experiments/default.toml" if sizes.job[0] >= 256 else "a small tuned experiment (--quick)"
    return [
        "## The real job",
        "",
        f"`make sweep`'s own job ({job}: tuning, then the comparison) trained into a fresh folder and "
        "analysed, against the throughput job measured in the same run (the better of a measurement before "
        "and one after the sweep). Useful work is Σ epochs_run × n_train over every runs.csv the sweep "
        "writes; lane occupancy is Σ epochs_run ÷ the lane-epochs computed, since a block's lanes compute "
        "until its last run stops. Inside train() is the chunks' seconds in train() over the threads that "
        "ran them side by side, as a share of the sweep's time; the useful work there is what the kernels "
        "make of the job's own settings; the rest of the sweep's time goes to its tables, its disk "
        "check, tuning's sampler and threads idle at a phase's end. The saturating case is ReLU, He and "
        "momentum (lr 0.3623, μ 0.9964) at the throughput job's size. Runs per call: the median ratio "
        "over alternate rounds, with the lowest and highest round's in brackets.",
        "",
        markdown_table(["measure", "value", "unit", "against", "ratio"], rows),
        "",
    ]


def write_markdown(path, sections, command):
    info = machine()
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `{command}` on {info['platform']}, CPU {cpu_text(info['cpu'])}, {info['cpus']} CPUs; "
        + ", ".join(f"{k} {v}" for k, v in {**versions(), **references.versions()}.items() if v)
        + ".",
        "",
        "Other work on the machine makes timings vary between calls and between runs: tables "
        "show the best and the median; the Jobs table shows how many cores this run had.",
        "",
    ]
    path.write_text("\n".join(lines + [line for section in sections for line in section]), encoding="utf-8")
