"""Experiments: experiment files, the driver that trains their grid in chunks
(joblib or dask), the results store, and provenance."""
