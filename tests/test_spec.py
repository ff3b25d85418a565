"""Experiment files: grid expansion, every error path, the shipped experiments."""

import hashlib
import re
import tomllib
from pathlib import Path

import pytest
from experiment_files import load

from engine import make_dataset, options
from engine.sweep import spec
from engine.sweep.search import default_space

ROOT = Path(__file__).resolve().parent.parent


def column(experiment, key):
    return [config[key] for config in experiment.configs]


# --- grid expansion -----------------------------------------------------------


def test_plain_factors_form_a_product_in_file_order_last_fastest(tmp_path):
    e = load(
        tmp_path,
        """
seeds = 2
[factors]
init = ["xavier", "he"]
activation = ["sigmoid", "tanh", "relu"]
""",
    )
    assert e.factors == ("init", "activation")
    assert e.labels == ()
    assert [(c["init"], c["activation"]) for c in e.configs] == [
        ("xavier", "sigmoid"),
        ("xavier", "tanh"),
        ("xavier", "relu"),
        ("he", "sigmoid"),
        ("he", "tanh"),
        ("he", "relu"),
    ]
    assert e.n_runs == 12


def test_variant_factor_named_after_a_setting_sets_it_and_the_levels_settings(tmp_path):
    e = load(
        tmp_path,
        """
seeds = 1
[factors.optimizer]
sgd = { lr = 0.5 }
momentum = { lr = 0.1, momentum = 0.8 }
""",
    )
    assert e.factors == ("optimizer",)
    assert column(e, "optimizer") == ["sgd", "momentum"]
    assert column(e, "lr") == [0.5, 0.1]
    assert column(e, "momentum") == [options.TRAIN_DEFAULTS["momentum"], 0.8]


def test_lists_in_a_level_expand_into_sub_axes_after_the_variant(tmp_path):
    e = load(
        tmp_path,
        """
seeds = 1
[factors]
init = ["xavier", "he"]
[factors.optimizer]
sgd = { lr = 0.5 }
adam = { lr = [0.003, 0.01], beta1 = [0.8, 0.9] }
""",
    )
    assert e.factors == ("init", "optimizer", "lr", "beta1")
    per_init = [("sgd", 0.5, 0.9), ("adam", 0.003, 0.8), ("adam", 0.003, 0.9), ("adam", 0.01, 0.8), ("adam", 0.01, 0.9)]
    assert [(c["init"], c["optimizer"], c["lr"], c["beta1"]) for c in e.configs] == (
        [("xavier", *p) for p in per_init] + [("he", *p) for p in per_init]
    )


def test_variant_factor_that_is_not_a_setting_becomes_a_label(tmp_path):
    e = load(
        tmp_path,
        """
seeds = 1
[factors.regularization]
none = {}
weight_decay = { weight_decay = [1e-4, 1e-3] }
dropout = { dropout = 0.2 }
""",
    )
    assert e.factors == ("regularization", "weight_decay")
    assert e.labels == ("regularization",)
    assert column(e, "regularization") == ["none", "weight_decay", "weight_decay", "dropout"]
    assert column(e, "weight_decay") == [0.0, 1e-4, 1e-3, 0.0]
    assert column(e, "dropout") == [0.0, 0.0, 0.0, 0.2]


def test_dotted_keys_place_a_variant_factor_between_plain_ones(tmp_path):
    e = load(
        tmp_path,
        """
seeds = 1
[factors]
init = ["xavier", "he"]
optimizer.sgd = { lr = 0.5 }
optimizer.adam = { lr = 0.01 }
activation = ["sigmoid", "relu"]
""",
    )
    assert e.factors == ("init", "optimizer", "activation")
    assert column(e, "optimizer")[:4] == ["sgd", "sgd", "adam", "adam"]


def test_precedence_defaults_then_settings_then_factors(tmp_path):
    e = load(
        tmp_path,
        """
seeds = 1
[settings]
epochs = 300
reduction = "sum"
[factors]
lr = [0.2, 0.4]
""",
    )
    for config, lr in zip(e.configs, [0.2, 0.4]):
        assert config == {**options.TRAIN_DEFAULTS, "epochs": 300, "reduction": "sum", "lr": lr}


def test_no_factors_gives_one_configuration(tmp_path):
    e = load(tmp_path, "seeds = 3\n")
    assert e.configs == (options.TRAIN_DEFAULTS,)
    assert e.factors == () and e.n_runs == 3


def test_full_batch_is_written_full_and_stored_as_none(tmp_path):
    e = load(
        tmp_path,
        """
seeds = 1
[factors]
batch_size = ["full", 4]
""",
    )
    assert column(e, "batch_size") == [None, 4]
    assert load(tmp_path, 'seeds = 1\n[settings]\nbatch_size = "full"\n').configs[0]["batch_size"] is None


def test_config_frame_columns_and_values(tmp_path):
    e = load(
        tmp_path,
        """
seeds = 2
[data]
n_train = 8
seed = 5
[factors]
batch_size = ["full", 4]
[factors.regularization]
none = {}
dropout = { dropout = 0.2 }
""",
    )
    frame = e.config_frame()
    assert list(frame.columns) == [
        "config",
        "regularization",
        *options.TRAIN_DEFAULTS,
        "n_train",
        "n_test",
        "flip",
        "noise",
        "data_seed",
    ]
    assert list(frame["config"]) == [0, 1, 2, 3]
    assert list(frame["regularization"]) == ["none", "dropout"] * 2
    assert frame["batch_size"].isna().tolist() == [True, True, False, False]
    assert frame["batch_size"].iloc[2] == 4
    assert frame["target_loss"].isna().all()
    assert set(frame["n_train"]) == {8} and set(frame["data_seed"]) == {5}


def test_data_defaults_are_make_datasets(tmp_path):
    e = load(tmp_path, "seeds = 1\n[data]\nflip = 0\n")
    defaults = make_dataset.__defaults__[:6]
    assert list(e.data) == ["set", "n_train", "n_test", "flip", "noise", "seed", "n_val"]
    assert e.data == {"set": "ct", **dict(zip(list(e.data)[1:], defaults)), "flip": 0.0}
    assert isinstance(e.data["flip"], float)


def test_seeds_as_count_or_list(tmp_path):
    assert load(tmp_path, "seeds = 3\n").seeds == (0, 1, 2)
    assert load(tmp_path, "seeds = [7, 0, 3]\n").seeds == (7, 0, 3)


@pytest.mark.parametrize(
    "text, record_every",
    [
        ("seeds = 1\n[factors]\nepochs = [50, 350]\n", 3),  # from the largest epochs
        ("seeds = 1\n[settings]\nepochs = 20\n", 1),  # at least 1
        ("seeds = 1\nrecord_every = 7\n", 7),
    ],
)
def test_record_every(tmp_path, text, record_every):
    assert load(tmp_path, text).record_every == record_every


def test_name_path_text_and_hash(tmp_path):
    text = 'description = "d"\nseeds = 1\n'
    path = tmp_path / "my-exp.toml"
    path.write_text(text)
    e = spec.load(str(path))
    assert (e.name, e.path, e.text, e.description) == ("my-exp", str(path), text, "d")
    assert e.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert load(tmp_path, 'name = "other"\nseeds = 1\n').name == "other"


# --- errors ---------------------------------------------------------------------

ERRORS = {
    "toml syntax": ("seeds = 3\nfoo =\n", ["TOML syntax error", "line 2"]),
    "unknown top-level key": ("seeds = 3\nsedes = 4\n", ["'sedes'", "did you mean 'seeds'", "record_every"]),
    "seeds missing": ('description = "x"\n', ["seeds: missing"]),
    "seeds zero": ("seeds = 0\n", ["seeds", ">= 1", "got 0"]),
    "seeds negative count": ("seeds = -5\n", ["seeds", "got -5"]),
    "seeds negative in list": ("seeds = [1, -1]\n", ["seeds", ">= 0", "got -1"]),
    "seeds duplicate": ("seeds = [1, 2, 1]\n", ["seeds", "1 is listed twice"]),
    "seeds wrong type": ('seeds = "10"\n', ["seeds", "got '10'"]),
    "seeds bool": ("seeds = true\n", ["seeds", "got True"]),
    "seeds float in list": ("seeds = [1.5]\n", ["seeds", "got 1.5"]),
    "seeds empty": ("seeds = []\n", ["seeds", "empty"]),
    # the work to the default budget (1,000 epochs of the 32 default samples) and its time at 1e8 sample-steps/s
    "seeds too many": (
        "seeds = 1000000000\n",
        ["seeds", "= 1,000,000,000 runs", "3.2e+13 sample-steps", "about 89 h", "split the study"],
    ),
    # found by tests/test_fuzz_spec.py: integers past 64 bits failed deep inside (OverflowError, numba)
    "seeds past 64 bits": ("seeds = 1" + "0" * 400 + "\n", ["seeds", "fits in 64 bits", "an integer of 401 digits"]),
    "seed past 64 bits": ("seeds = [9223372036854775808]\n", ["seeds", "64 bits", "9223372036854775808"]),
    "setting past a float": ("seeds = 1\n[settings]\ntarget_loss = 1" + "0" * 400 + "\n", ["target_loss", "64 bits"]),
    "epochs past 64 bits": ("seeds = 1\n[settings]\nepochs = 9223372036854775808\n", ["[settings] epochs", "64 bits"]),
    "data past memory": ("seeds = 1\n[data]\nn_train = 1000000000000000\n", ["[data] n_train", "memory"]),
    "label named after an outcome": (
        "seeds = 1\n[factors.test_acc]\na = {}\nb = {}\n",
        ["[factors.test_acc]", "'test_acc' is a column of the results tables"],
    ),
    "tuning seeds past a folder": (
        'seeds = 1\n[settings]\ntarget_loss = 0.1\n[factors.optimizer]\nsgd = {}\n[tune]\nfactors = ["optimizer"]\n'
        "trials = 2\nseeds = 1000000000000\n",
        ["[tune] seeds", "2 trials × configurations × 1,000,000,000,000 seeds", "first rung"],
    ),
    "tuning objective a list": (
        'seeds = 1\n[settings]\ntarget_loss = 0.1\n[factors.optimizer]\nsgd = {}\n[tune]\nfactors = ["optimizer"]\n'
        "trials = 2\nobjective = []\n",
        ["[tune] objective: unknown value []; allowed: ert, val_loss, val_acc"],
    ),
    "record_every zero": ("seeds = 1\nrecord_every = 0\n", ["record_every", ">= 1", "got 0"]),
    "name unsafe": ('name = "../x"\nseeds = 1\n', ["name", "got '../x'"]),
    "name with a separator": ('name = "a/b"\nseeds = 1\n', ["name", "got 'a/b'"]),
    "name with a backslash": ('name = "a\\\\b"\nseeds = 1\n', ["name", "got 'a\\\\b'"]),
    "name with a control character": ('name = "a\\tb"\nseeds = 1\n', ["name", "got 'a\\tb'"]),
    "name hidden": ('name = ".x"\nseeds = 1\n', ["name", "got '.x'"]),
    "description type": ("description = 3\nseeds = 1\n", ["description", "string", "got 3"]),
    "data not a table": ("seeds = 1\ndata = 5\n", ["[data]", "table", "got 5"]),
    "data unknown key": ("seeds = 1\n[data]\nntrain = 3\n", ["[data]", "'ntrain'", "did you mean 'n_train'"]),
    "data n_train zero": ("seeds = 1\n[data]\nn_train = 0\n", ["[data] n_train", ">= 1", "got 0"]),
    "data n_train float": ("seeds = 1\n[data]\nn_train = 8.0\n", ["[data] n_train", "integer", "got 8.0"]),
    "data n_test zero": ("seeds = 1\n[data]\nn_test = 0\n", ["[data] n_test", "got 0"]),
    "data flip": ("seeds = 1\n[data]\nflip = 1.5\n", ["[data] flip", "[0, 1]", "got 1.5"]),
    "data noise": ("seeds = 1\n[data]\nnoise = -0.1\n", ["[data] noise", ">= 0", "got -0.1"]),
    "data noise type": ('seeds = 1\n[data]\nnoise = "a"\n', ["[data] noise", "got 'a'"]),
    "data seed": ("seeds = 1\n[data]\nseed = -1\n", ["[data] seed", ">= 0", "got -1"]),
    "settings unknown": ("seeds = 1\n[settings]\nlrr = 0.1\n", ["[settings]", "'lrr'", "did you mean 'lr'"]),
    "settings alias": ("seeds = 1\n[settings]\nlearning_rate = 0.5\n", ["'learning_rate'", "did you mean 'lr'?"]),
    "settings alias epochs": ("seeds = 1\n[settings]\nn_epochs = 5\n", ["'n_epochs'", "did you mean 'epochs'?"]),
    "settings inf": ("seeds = 1\n[settings]\nlr = inf\n", ["[settings] lr: must be finite", "got inf"]),
    "data inf": ("seeds = 1\n[data]\nnoise = inf\n", ["[data] noise: must be", "got inf"]),
    "settings lr zero": ("seeds = 1\n[settings]\nlr = 0\n", ["[settings] lr", "> 0", "got 0"]),
    "settings list": ("seeds = 1\n[settings]\nlr = [0.1]\n", ["[settings] lr", "[factors]"]),
    "settings unknown value": (
        'seeds = 1\n[settings]\noptimizer = "adamm"\n',
        ["[settings] optimizer", "'adamm'", "nesterov", "did you mean 'adam'"],
    ),
    "settings dropout": ("seeds = 1\n[settings]\ndropout = 1.0\n", ["[settings] dropout", "[0, 1)", "got 1.0"]),
    "settings int type": ("seeds = 1\n[settings]\nepochs = 10.0\n", ["[settings] epochs", "integer", "got 10.0"]),
    "settings bool type": ("seeds = 1\n[settings]\ndecay_thresholds = 1\n", ["decay_thresholds", "true or false"]),
    "batch_size word": ('seeds = 1\n[settings]\nbatch_size = "fulll"\n', ["batch_size", "'fulll'", '"full"']),
    "batch_size over n_train": (
        "seeds = 1\n[settings]\nbatch_size = 64\n",
        ["configuration 0", "batch_size", "64", "n_train = 32"],
    ),
    "factors not a table": ("seeds = 1\nfactors = 1\n", ["[factors]", "table"]),
    "factor unknown": ('seeds = 1\n[factors]\nintt = ["he"]\n', ["[factors]", "'intt'", "did you mean 'init'"]),
    "factor scalar": ('seeds = 1\n[factors]\ninit = "he"\n', ["[factors] init", "list", "got 'he'"]),
    "factor empty": ("seeds = 1\n[factors]\ninit = []\n", ["[factors] init", "empty"]),
    "factor duplicate": ("seeds = 1\n[factors]\nlr = [0.1, 0.1]\n", ["[factors] lr", "0.1 is listed twice"]),
    "factor duplicate full": ('seeds = 1\n[factors]\nbatch_size = ["full", "full"]\n', ["batch_size", "twice"]),
    "factor unknown value": (
        'seeds = 1\n[factors]\ninit = ["he", "xavierr"]\n',
        ["[factors] init", "'xavierr'", "std0.01", "did you mean 'xavier'"],
    ),
    "factor lr negative": ("seeds = 1\n[factors]\nlr = [0.1, -1]\n", ["[factors] lr", "> 0", "got -1"]),
    "variant empty": ("seeds = 1\n[factors.optimizer]\n", ["[factors.optimizer]", "no levels"]),
    "variant level unknown": (
        "seeds = 1\n[factors.optimizer]\nadamm = {}\n",
        ["[factors.optimizer]", "'adamm'", "did you mean 'adam'"],
    ),
    "variant level not a table": (
        "seeds = 1\n[factors.optimizer]\nadam = 0.1\n",
        ["[factors.optimizer] adam", "table", "got 0.1"],
    ),
    "variant unknown key": (
        "seeds = 1\n[factors.optimizer]\nadam = { lrr = 0.1 }\n",
        ["[factors.optimizer.adam]", "'lrr'", "did you mean 'lr'"],
    ),
    "variant bad value": (
        "seeds = 1\n[factors.optimizer]\nadam = { lr = 0 }\n",
        ["[factors.optimizer.adam] lr", "> 0", "got 0"],
    ),
    "variant dropout": (
        "seeds = 1\n[factors.regularization]\nd = { dropout = [0.2, 1] }\n",
        ["[factors.regularization.d] dropout", "[0, 1)", "got 1"],
    ),
    "variant empty list": (
        "seeds = 1\n[factors.optimizer]\nadam = { lr = [] }\n",
        ["[factors.optimizer.adam] lr", "empty"],
    ),
    "variant duplicate": (
        "seeds = 1\n[factors.optimizer]\nadam = { lr = [0.1, 0.1] }\n",
        ["[factors.optimizer.adam] lr", "0.1 is listed twice"],
    ),
    "variant sets its own name": (
        'seeds = 1\n[factors.optimizer]\nadam = { optimizer = "sgd" }\n',
        ["[factors.optimizer.adam]", "'optimizer'"],
    ),
    "label like a setting": (
        "seeds = 1\n[factors.optimiser]\nadam = {}\n",
        ["[factors.optimiser]", "did you mean the setting 'optimizer'"],
    ),
    "label reserved": ("seeds = 1\n[factors.data_seed]\nlow = {}\n", ["[factors.data_seed]", "column"]),
    "settings and plain factor": (
        "seeds = 1\n[settings]\nlr = 0.1\n[factors]\nlr = [0.2, 0.3]\n",
        ["[factors] lr", "'lr'", "also set in [settings]"],
    ),
    "settings and variant name": (
        'seeds = 1\n[settings]\noptimizer = "sgd"\n[factors.optimizer]\nadam = {}\n',
        ["[factors.optimizer]", "'optimizer'", "also set in [settings]"],
    ),
    "settings and level": (
        "seeds = 1\n[settings]\nlr = 0.1\n[factors.optimizer]\nadam = { lr = 0.01 }\n",
        ["[factors.optimizer.adam]", "'lr'", "also set in [settings]"],
    ),
    "two factors": (
        "seeds = 1\n[factors]\nlr = [0.1, 0.2]\n[factors.optimizer]\nadam = { lr = 0.01 }\n",
        ["[factors.optimizer.adam]", "'lr'", "also set in [factors] lr"],
    ),
    "two variant factors": (
        "seeds = 1\n[factors.reg]\nwd = { weight_decay = 0.1 }\n[factors.penalty]\nwd = { weight_decay = 0.2 }\n",
        ["[factors.penalty.wd]", "'weight_decay'", "[factors.reg.wd]"],
    ),
    "armijo combination": (
        'seeds = 1\n[settings]\nschedule = "armijo"\n[factors.optimizer]\nsgd = {}\nadam = { lr = 0.01 }\n',
        ["configuration 1", "optimizer='adam'", "lr=0.01", "armijo"],
    ),
    "batch_size factor over n_train": (
        'seeds = 1\n[data]\nn_train = 8\n[factors]\nbatch_size = ["full", 16]\n',
        ["configuration 1", "batch_size=16", "n_train = 8"],
    ),
}


@pytest.mark.parametrize("text, fragments", ERRORS.values(), ids=ERRORS.keys())
def test_bad_file_raises_spec_error_naming_file_key_and_allowed(tmp_path, text, fragments):
    with pytest.raises(spec.SpecError) as raised:
        load(tmp_path, text, name="bad.toml")
    message = str(raised.value)
    assert message.startswith(str(tmp_path / "bad.toml") + ": ")
    for fragment in fragments:
        assert fragment in message


def test_unreadable_files(tmp_path):
    with pytest.raises(spec.SpecError, match="missing.toml: cannot read"):
        spec.load(tmp_path / "missing.toml")
    (tmp_path / "bin.toml").write_bytes(b"seeds = 1\n\xff\n")
    with pytest.raises(spec.SpecError, match="bin.toml: not UTF-8"):
        spec.load(tmp_path / "bin.toml")


# --- the shipped experiment files -----------------------------------------------

SIZES = {  # file: (configurations, runs)
    "default.toml": (108, 10800),
    "init.toml": (9, 900),
    "optimizers.toml": (30, 3000),
    "overfitting.toml": (7, 700),
    "lr_sensitivity.toml": (48, 4800),
    "batch.toml": (8, 800),
    "lecture.toml": (18, 900),
    "scale.toml": (24, 1000008),
    "width.toml": (6, 600),
    "digits.toml": (6, 120),
    "depth_init.toml": (12, 96),
    "overfit.toml": (4, 32),
}


def test_every_experiment_file_has_a_documented_size():
    assert sorted(p.name for p in (ROOT / "experiments").glob("*.toml")) == sorted(SIZES)


@pytest.mark.parametrize("name", SIZES)
def test_experiment_file_loads_with_its_size(name):
    e = spec.load(ROOT / "experiments" / name)
    assert (len(e.configs), e.n_runs) == SIZES[name]
    assert e.name == name.removesuffix(".toml") and e.description


def _comments(text):
    """The comments of a TOML file as one line of text (line breaks and '#'s dropped)."""
    return " ".join(line.split("#", 1)[1].strip() for line in text.splitlines() if "#" in line)


@pytest.mark.parametrize("name", SIZES)
def test_experiment_file_comments_keep_their_word(name):
    e = spec.load(ROOT / "experiments" / name)
    said = _comments(e.text)
    # "to be tuned" / "tuned" only where a [tune] section tunes something.
    assert ("tune" in said.lower()) == bool(e.tune), said
    # The header's arithmetic is the grid's: "N configurations x S seeds = R runs".
    sizes = re.search(r"([\d,]+) configurations x ([\d,]+) seeds = ([\d,]+) runs", said)
    assert sizes, "the header states configurations x seeds = runs"
    n, seeds, runs = (int(x.replace(",", "")) for x in sizes.groups())
    assert (n, seeds, runs) == (len(e.configs), len(e.seeds), e.n_runs)


def test_default_experiment_grid():
    e = spec.load(ROOT / "experiments" / "default.toml")
    assert e.factors == ("init", "activation", "optimizer", "regularization")
    assert e.labels == ("regularization",)
    assert e.seeds == tuple(range(100))
    assert set(column(e, "optimizer")) == {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"}
    assert set(column(e, "epochs")) == {2000} and set(column(e, "target_loss")) == {0.02}
    assert e.data["n_train"] == 32 and e.data["n_test"] == 1000


def test_default_experiment_tunes_each_optimizer_per_activation_on_other_seeds():
    e = spec.load(ROOT / "experiments" / "default.toml")
    assert e.tune.factors == ("optimizer", "activation") and len(e.tune.groups) == 18
    for group in e.tune.groups:
        optimizer = dict(group.levels)["optimizer"]
        assert len(group.configs) == 6 and group.space == default_space(optimizer)
    assert e.tune.seeds == tuple(range(100, 116)) and not set(e.tune.seeds) & set(e.seeds)


def test_batch_experiment_ranks_by_sample_gradients():
    e = spec.load(ROOT / "experiments" / "batch.toml")
    assert spec.cost_unit(tomllib.loads(e.text)["analysis"]) == "samples"


def test_tiny_experiment_for_end_to_end_tests():
    e = spec.load(ROOT / "tests" / "tiny.toml")
    assert (len(e.configs), len(e.seeds)) == (2, 3)
    assert set(column(e, "epochs")) == {50} and e.data["n_test"] == 50
