"""Scale-out on Dask: batch cohort dosimetry and in-silico trials (``prrt batch …``).

A local cluster (:class:`distributed.LocalCluster`, worker processes) is started
by default; a scheduler address connects to a running cluster instead
(``dask scheduler`` / ``dask worker``; ``docs/batch.md``).

Modules
-------
``cluster``
    :func:`dask_client`: a client on a new local cluster or on a scheduler address.
``trial``
    :func:`run_trial_on_cluster`: the chunks of :mod:`prrt.simulation.trial` as Dask tasks.
``manifest``
    The batch manifest (``prrt-batch`` JSON): studies, ids, sex, centre.
``study_task``
    :func:`process_study`: voxel and organ dosimetry of one study on a worker, with
    its result or error file keyed by a hash of inputs and settings.
``writers``
    :class:`ResultWriter` and :class:`ParquetResultWriter` (one row per study × region).
``dosimetry``
    :func:`run_batch_dosimetry`: every study of a manifest, resumable.
"""

from prrt.adapters.batch.cluster import dask_client
from prrt.adapters.batch.dosimetry import BatchReport, run_batch_dosimetry
from prrt.adapters.batch.manifest import BatchManifest, BatchStudy, read_batch_manifest
from prrt.adapters.batch.study_task import DosimetrySettings, StudyOutcome, process_study
from prrt.adapters.batch.trial import run_trial_on_cluster
from prrt.adapters.batch.writers import ParquetResultWriter, ResultWriter

__all__ = [
    "BatchManifest",
    "BatchReport",
    "BatchStudy",
    "DosimetrySettings",
    "ParquetResultWriter",
    "ResultWriter",
    "StudyOutcome",
    "dask_client",
    "process_study",
    "read_batch_manifest",
    "run_batch_dosimetry",
    "run_trial_on_cluster",
]
