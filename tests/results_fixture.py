"""Small hand-made results folders, written like a sweep writes them.

The outcomes follow obvious rules, so tests know the answers: Adam reaches ε
fastest, SGD seldom, ReLU with std0.01 never (all units dead), no
regularisation overfits, and SGD needs a large lr while Adam diverges at one.
"""

import itertools
import json

import numpy as np
import pandas as pd

from engine import Layout

SETTINGS = {  # the sweep's setting columns and a default value for each
    "init": "xavier",
    "optimizer": "sgd",
    "lr": 0.1,
    "activation": "sigmoid",
    "output": "softmax",
    "loss": "cross_entropy",
    "reduction": "mean",
    "batch_size": 32,
    "weight_decay": 0.0,
    "dropout": 0.0,
    "dropout_mode": "inverted",
    "schedule": "constant",
    "momentum": 0.9,
    "rho": 0.99,
    "beta1": 0.9,
    "beta2": 0.999,
    "eps": 1e-8,
    "lr_decay": 0.0,
    "lr_step": 100,
    "epochs": 500,
    "target_loss": 0.05,
    "n_train": 32,
    "n_test": 200,
    "flip": 0.05,
    "noise": 0.1,
    "data_seed": 0,
}
LEVELS = {
    "init": ["xavier", "he", "std0.01"],
    "optimizer": ["sgd", "momentum", "adam"],
    "activation": ["sigmoid", "relu"],
    "regularization": ["none", "weight_decay", "dropout"],
    "lr": [0.001, 0.01, 0.1, 1.0],
}
# What a regularisation label sets, as a sweep's variant factor does.
REGULARIZATION = {"none": {}, "weight_decay": {"weight_decay": 1e-3}, "dropout": {"dropout": 0.2}}
FIRST_EPOCHS = {"adam": 40, "momentum": 100, "sgd": 300}  # epochs to ε at seed 0
TRAIN_ACC = {"none": 1.0, "weight_decay": 0.97, "dropout": 0.95}
TEST_ACC = {"none": 0.80, "weight_decay": 0.92, "dropout": 0.90}
EVERY = 10  # curves are recorded every EVERY epochs


def outcome(s, seed):
    """One run's outcomes from its settings s and seed."""
    budget = s["epochs"]
    epochs = FIRST_EPOCHS[s["optimizer"]] + 20 * seed
    diverged = s["optimizer"] == "adam" and s["lr"] >= 1.0
    too_slow = s["optimizer"] == "sgd" and s["lr"] < 0.1
    dead = s["activation"] == "relu" and s["init"] == "std0.01"
    reached = not (diverged or too_slow or dead) and epochs <= budget
    label = s.get("regularization", "none")
    last = epochs if reached else budget
    return {
        "train_loss": np.nan if diverged else (0.9 * s["target_loss"] if reached else 0.3),
        "train_acc": np.nan if diverged else TRAIN_ACC[label] * (1.0 if reached else 0.7),
        "test_loss": np.nan if diverged else 0.4,
        "test_acc": np.nan if diverged else TEST_ACC[label] * (1.0 if reached else 0.7) - 0.01 * seed,
        "epochs_to_target": epochs if reached else None,
        "converged": reached,
        "diverged": diverged,
        "epochs_run": 30 if diverged else last,
        "grad_evals": (30 if diverged else last),
        "dead_units": 3 if dead else 0,
    }


def curve(s, seed, row):
    """Loss that decays exponentially to reach ε at epochs_to_target (or 0.3 at the end)."""
    end = row["epochs_run"]
    epochs = np.arange(0, end + 1, EVERY)
    final = 1e6 if row["diverged"] else row["train_loss"]
    rate = np.log(0.7 / final) / end
    loss = 0.7 * np.exp(-rate * epochs)
    if row["diverged"]:
        loss[-1] = np.inf
    return pd.DataFrame(
        {
            "epoch": epochs,
            "train_loss": loss,
            "train_acc": 1 - loss / 2,
            "test_loss": loss + 0.1,
            "test_acc": 0.9 - loss / 2,
        }
    )


def make_results(
    root,
    *,
    factors=("init", "optimizer", "activation", "regularization"),
    seeds=range(4),
    levels=None,
    drop=(),
    params=True,
    manifest=True,
    name="demo",
):
    """Write runs.csv, curves.csv, params.csv and manifest.json into root and
    return root. `drop` lists (config, seed) rows to leave out (a partial sweep)."""
    levels = {f: (levels or {}).get(f, LEVELS[f]) for f in factors}
    seeds = list(seeds)
    runs, curves = [], []
    grid = list(itertools.product(*levels.values()))
    for config, values in enumerate(grid):
        s = dict(SETTINGS) | dict(zip(factors, values))
        s |= REGULARIZATION.get(s.get("regularization"), {})
        for seed in seeds:
            if (config, seed) in drop:
                continue
            row = outcome(s, seed)
            runs.append({"config": config, "seed": seed, **s, **row})
            curves.append(curve(s, seed, row).assign(config=config, seed=seed))
    runs = pd.DataFrame(runs)
    # The label column of a variant factor sits after the settings, as the sweep writes it.
    columns = ["config", "seed", *SETTINGS, *(f for f in factors if f not in SETTINGS)]
    runs = runs[columns + [c for c in runs.columns if c not in columns]]
    runs["epochs_to_target"] = runs["epochs_to_target"].astype("Int64")
    runs.to_csv(root / "runs.csv", index=False)
    curves = pd.concat(curves, ignore_index=True)
    curves[["config", "seed", "epoch", "train_loss", "train_acc", "test_loss", "test_acc"]].to_csv(
        root / "curves.csv", index=False
    )
    if params:
        layout = Layout()
        theta = np.random.default_rng(0).normal(0, 1, (len(runs), layout.size))
        table = pd.DataFrame(theta, columns=layout.names)
        table.insert(0, "seed", runs["seed"].to_numpy())
        table.insert(0, "config", runs["config"].to_numpy())
        table.to_csv(root / "params.csv", index=False)
    if manifest:
        (root / "manifest.json").write_text(
            json.dumps(
                {
                    "experiment": name,
                    "spec": f"{name}.toml",
                    "spec_sha256": "0" * 64,
                    "spec_text": '[grid]\noptimizer = ["sgd", "momentum", "adam"]\n',
                    "factors": list(factors),
                    "n_configs": len(grid),
                    "n_runs": len(grid) * len(seeds),
                    "seeds": seeds,
                    "layout": {"n_in": 12, "n_hidden": 3, "n_out": 2},
                    "data": {"n_train": 32, "n_test": 200, "flip": 0.05, "noise": 0.1, "seed": 0},
                    "versions": {"nn47": "0.1.0"},
                    "machine": {"cpus": 2},
                },
                indent=1,
            )
        )
    return root


def write_runs(root, rows, *, epochs=500, target_loss=0.05):
    """A hand-made runs.csv (rows: dicts of factor levels, seed and any outcome
    overrides) with a matching minimal curves.csv and no params.csv."""
    full = []
    for config_seed in rows:
        row = {
            **SETTINGS,
            "epochs": epochs,
            "target_loss": target_loss,
            "train_loss": 0.1,
            "train_acc": 1.0,
            "test_loss": 0.2,
            "test_acc": 0.9,
            "epochs_to_target": None,
            "converged": False,
            "diverged": False,
            "epochs_run": epochs,
            "grad_evals": epochs,
            "dead_units": 0,
        } | config_seed
        row["converged"] = row["epochs_to_target"] is not None
        full.append(row)
    runs = pd.DataFrame(full)
    runs.insert(0, "seed", runs.pop("seed"))
    runs.insert(0, "config", runs.pop("config"))
    runs["epochs_to_target"] = runs["epochs_to_target"].astype("Int64")
    runs.to_csv(root / "runs.csv", index=False)
    pd.DataFrame(
        {
            "config": runs["config"],
            "seed": runs["seed"],
            "epoch": 0,
            "train_loss": 0.7,
            "train_acc": 0.5,
            "test_loss": 0.7,
            "test_acc": 0.5,
        }
    ).to_csv(root / "curves.csv", index=False)
    return root
