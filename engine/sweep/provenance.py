"""Where numbers came from: package versions, the machine, and a sweep's
manifest (the experiment file, its hash, the kernel sources' hash)."""

import os
import platform
from importlib import metadata

from ..kernels.cache import source_digest
from ..model.layout import Layout

PACKAGES = ("nn47", "numba", "numpy", "pandas", "joblib", "dask", "distributed", "scipy", "matplotlib", "pyarrow")


def versions():
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def machine():
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }


def manifest_of(experiment):
    layout = Layout()  # the layout every sweep trains
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
        "layout": {"n_in": layout.n_in, "n_hidden": layout.n_hidden, "n_out": layout.n_out},
        "data": dict(experiment.data),
        **({"tuning": experiment.tuning} if experiment.tuning else {}),  # what [tune] chose
        "versions": versions(),
        "machine": machine(),
    }
