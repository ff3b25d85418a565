"""`nn47 workbook`, registered by engine/cli.py."""
from engine import options

from . import SLIDE_DEFAULTS, WORKBOOK_SETTINGS


def add_workbook_parser(commands):
    from engine.cli import add_setting_options   # engine.cli imports this module first
    p = commands.add_parser(
        "workbook", help="write the network as a live spreadsheet (.xlsx)",
        description="Write an .xlsx in which the forward pass, the error E and every ∂E/∂w over the training "
                    "images are spreadsheet formulas: sheet 'weights' (the 47 parameters, ∂E/∂w, one "
                    "steepest-descent step, η, λ, E) and one sheet per image. Defaults are the slides' own: "
                    "sigmoid hidden and output units, squared error, E = Σ_p e_p.")
    add_setting_options(p, {key: SLIDE_DEFAULTS.get(key, options.TRAIN_DEFAULTS[key])
                            for key in ("init", *WORKBOOK_SETTINGS)},
                        data=("n_train", "flip", "noise", "seed"))
    weights = p.add_mutually_exclusive_group()
    weights.add_argument("--seed", type=int, default=0, help="initial weights of this seed with --init (default 0)")
    weights.add_argument("--params", metavar="FILE",
                         help="weights from a CSV: a header of the 47 slide names (optionally after config, "
                              "seed), as a results folder's params.csv")
    p.add_argument("--run", dest="chosen_run", metavar="CONFIG:SEED", help="the row of a --params file with many")
    p.add_argument("--out", default="workbook.xlsx", help="the .xlsx to write (default workbook.xlsx)")
    p.set_defaults(run=cmd_workbook)


def cmd_workbook(args):
    from engine import Layout, initial_params, make_dataset

    from .params import read_params
    from .xlsx import workbook
    if args.params:
        theta = read_params(args.params, args.chosen_run)
        source = f"weights: {args.params}" + (f", run {args.chosen_run}" if args.chosen_run else "")
    elif args.chosen_run:
        raise ValueError("--run: chooses a row of a --params file; give --params too")
    else:
        theta = initial_params(Layout(), args.init, [args.seed])[0]
        source = f"weights: initial, init {args.init}, seed {args.seed}"
    d = make_dataset(args.n_train, 1, args.flip, args.noise, args.data_seed, scale=False)   # the test set goes unused
    data = f"data: {args.n_train} images, flip {args.flip}, noise {args.noise}, data seed {args.data_seed}"
    out = workbook(args.out, theta, d.X_train, d.T_train, notes=(source, data),
                   **{key: getattr(args, key) for key in WORKBOOK_SETTINGS})
    print(f"workbook: {out} (sheets weights, p1 … p{args.n_train})")
    return 0
