"""Where numbers came from: package versions, the machine, and a sweep's
manifest (the experiment file, its hash, the kernel sources' hash)."""

import functools
import os
import platform
from importlib import metadata

from .. import options
from ..kernels.cache import source_digest
from ..model import datasets

PACKAGES = (
    "nn47",
    "numba",
    "numpy",
    "pandas",
    "joblib",
    "dask",
    "distributed",
    "scipy",
    "matplotlib",
    "pyarrow",
    "scikit-learn",
)


def versions():
    return dict(installed())


@functools.cache
def installed():
    """(name, version) of Python and PACKAGES, looked up once per process: each
    sweep's manifest and each tuning rung's names them."""
    found = [("python", platform.python_version())]
    for name in PACKAGES:
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            found.append((name, None))
    return tuple(found)


# The vector extensions that decide how the kernels compile (of /proc/cpuinfo's flags)
ISA = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512vl", "avx512_fp16", "avx512_bf16", "amx_tile")


def cpu(cpuinfo="/proc/cpuinfo"):
    """The CPU: vendor, family, model, name and vector extensions (Linux's
    /proc/cpuinfo; elsewhere only what `platform` says)."""
    try:
        with open(cpuinfo) as f:
            first = f.read().split("\n\n")[0]
    except OSError:
        return {"name": platform.processor() or platform.machine()}
    fields = dict(line.split(":", 1) for line in first.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = set(fields.get("flags", "").split())
    return {
        "vendor": fields.get("vendor_id"),
        "family": fields.get("cpu family"),
        "model": fields.get("model"),
        "name": fields.get("model name", platform.processor() or platform.machine()),
        "isa": [x for x in ISA if x in flags],
    }


def cpu_text(info=None):
    """One line naming the CPU, e.g. 'GenuineIntel family 6 model 106 (Intel(R) Xeon(R) ...; avx2 fma avx512f)'."""
    info = cpu() if info is None else info
    if "vendor" not in info:
        return info["name"]
    return f"{info['vendor']} family {info['family']} model {info['model']} ({info['name']}; {' '.join(info['isa'])})"


def machine():
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "cpu": cpu(),
    }


def manifest_of(experiment):
    layout = experiment.layout()  # the largest network
    # each network trained (the runs' hidden column): n_in, n_out and these give the params table's columns
    levels = options.hidden_column(
        sorted({config["hidden"] for config in experiment.configs}, key=options.hidden_widths)
    )
    one_layer = {"n_hidden": layout.n_hidden} if all(isinstance(level, int) for level in levels) else {}
    return {
        "experiment": experiment.name,
        "description": experiment.description,
        "spec": str(experiment.path),
        "spec_sha256": experiment.sha256,
        "kernel_sources_sha256": source_digest(),
        "spec_text": experiment.text,
        "factors": list(experiment.factors),
        "labels": list(experiment.labels),
        "n_configs": len(experiment.configs),
        "n_runs": experiment.n_runs,
        "seeds": list(experiment.seeds),
        "record_every": experiment.record_every,
        "layout": {"n_in": layout.n_in, **one_layer, "n_out": layout.n_out, "hidden": levels},
        "data": {**experiment.data, "sha256": datasets.sha256(datasets.load(experiment.data))},
        **({"tuning": experiment.tuning} if experiment.tuning else {}),  # what [tune] chose
        "versions": versions(),
        "machine": machine(),
    }
