"""Figures of the benchmarks (headless, matplotlib's object API as in engine.analysis.figures)."""

import numpy as np
from matplotlib.figure import Figure

from ..analysis.figures import DPI, plot_epochs_ecdf, plot_lr_sensitivity
from .convergence import CHOICES, as_success, chosen_runs, performance_ratios, problem_times


def plot_performance_profiles(runs):
    """Dolan–Moré profiles ρ_s(τ) of epochs to target, one panel per lr choice."""
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    for ax, choice in zip(fig.subplots(1, len(CHOICES), sharey=True), CHOICES):
        times = problem_times(chosen_runs(runs, choice))
        ratios = performance_ratios(times)
        finite = ratios[np.isfinite(ratios)]
        right = max(finite.max() if finite.size else 1.0, 1.0) * 1.5
        for column, optimizer in enumerate(times.columns):
            r = np.sort(ratios[:, column])
            solved = int(np.isfinite(r).sum())
            shares = np.arange(solved + 1) / r.size  # after the k-th smallest ratio: k / problems
            ax.step(np.r_[1.0, r[:solved], right], np.r_[shares, shares[-1]], where="post", label=optimizer)
        ax.set_xscale("log")
        ax.set_xlim(1, right)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.set_title(f"lr {choice}")
        ax.set_xlabel("τ: epochs within τ × the fastest optimizer's (log scale)")
    fig.axes[0].set_ylabel("share of (problem, seed) pairs solved")
    fig.axes[0].legend(loc="lower right", fontsize="small")
    fig.suptitle(f"Performance profiles over {times.shape[0]} (activation × init, seed) problems")
    return fig


def convergence_figures(runs, lr_table, out):
    """Draw the convergence figures into out; returns file name -> caption."""
    figures = {"performance_profile.png": ("Performance profiles", plot_performance_profiles(runs))}
    for choice in CHOICES:
        fig = plot_epochs_ecdf(as_success(chosen_runs(runs, choice)))
        fig.suptitle(f"ECDF of epochs to target, lr {choice}, pooled over activation × init and seeds")
        figures[f"ecdf_{choice}.png"] = (f"ECDF, lr {choice}", fig)
    # The star marks the grid's lr of lowest ERT, not analyze's `best`.
    figures["lr_sensitivity.png"] = (
        "Learning-rate sensitivity (★ the grid's lr of lowest ERT)",
        plot_lr_sensitivity(lr_table.assign(best=lr_table["lowest_ert"])),
    )
    for name, (_, fig) in figures.items():
        fig.savefig(out / name, dpi=DPI)
    return {name: caption for name, (caption, _) in figures.items()}


def throughput_figure(table, out, name="throughput.png"):
    """Sample-steps/s: every implementation on the job (float64 and float32), against runs per call,
    against epochs."""
    fig = Figure(figsize=(14, 4.4), layout="constrained")
    bars, runs_axis, epochs_axis = fig.subplots(1, 3)
    job = table[table["study"] == "implementations"]
    float32 = table[(table["study"] == "float32") & (table["implementation"] != "engine, float64")]
    bars.bar(job["implementation"], job["sample_steps_per_s"], color="tab:blue", label="float64")
    bars.bar(float32["implementation"] + " f32", float32["sample_steps_per_s"], color="tab:orange", label="float32")
    bars.legend(fontsize="small")
    bars.tick_params(axis="x", rotation=20)
    bars.set_title(
        f"{job['runs'].iloc[0]:.0f} runs × {job['epochs'].iloc[0]:.0f} epochs × {job['samples'].iloc[0]:.0f} samples"
    )
    for implementation, rows in table[table["study"] == "runs_per_call"].groupby("implementation", sort=False):
        runs_axis.plot(rows["runs"], rows["sample_steps_per_s"], marker="o", label=implementation)
    runs_axis.set_xscale("log")
    runs_axis.set_xlabel("runs per call (log scale)")
    runs_axis.legend(fontsize="small")
    runs_axis.set_title("Scaling with runs per call")
    epochs = table[table["study"] == "epochs"]
    epochs_axis.plot(epochs["epochs"], epochs["sample_steps_per_s"], marker="o", label="engine")
    epochs_axis.set_xscale("log")
    epochs_axis.set_xlabel("epochs per call (log scale)")
    epochs_axis.set_title(f"Engine, {epochs['runs'].iloc[0]:.0f} runs per call")
    for ax in (bars, runs_axis, epochs_axis):
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    bars.set_ylabel("sample-steps per second (log scale)")
    fig.savefig(out / name, dpi=DPI)
    return name
