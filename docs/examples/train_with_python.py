#!/usr/bin/env python3
"""Train a small GPT on Trainyard from Python: submit, wait, read the metrics, download the trained model.

Uses only the generated client `trainyard_client` (built by `./mvnw package` into
api/python-client/target/python) and what it needs from Debian: python3-pydantic (1.10), python3-urllib3,
python3-dateutil. With `./run.sh` running, from the repository root:

    PYTHONPATH=api/python-client/target/python /usr/bin/python3 docs/examples/train_with_python.py trained-model

Settings come from the environment: TRAINYARD_API (default http://127.0.0.1:8080), TRAINYARD_TOKEN (default:
the demo token ./run.sh wrote to $TRAINYARD_HOME/demo-token, .trainyard/demo-token by default),
TRAINYARD_PROJECT (default demo) and TRAINYARD_POOL (default local-cpu, the pool of ./run.sh's runner).
"""

import hashlib
import os
import sys
import time

from trainyard_client import ApiClient, Configuration, JobSpec, JobsApi

API = os.environ.get("TRAINYARD_API", "http://127.0.0.1:8080")
PROJECT = os.environ.get("TRAINYARD_PROJECT", "demo")
POOL = os.environ.get("TRAINYARD_POOL", "local-cpu")


def token():
    if "TRAINYARD_TOKEN" in os.environ:
        return os.environ["TRAINYARD_TOKEN"]
    with open(os.path.join(os.environ.get("TRAINYARD_HOME", ".trainyard"), "demo-token")) as f:
        return f.read().strip()


# The job: the same document you would POST with curl (docs/design/job-spec.md); a 2-layer GPT on the built-in
# arithmetic corpus, split into 2 pipeline stages, which trains in seconds on 2 CPU cores.
SPEC = {
    "name": "python-example",
    "project": PROJECT,
    "resources": {"pool": POOL, "gpus": 2},
    "limits": {"maxRuntimeSeconds": 600, "maxRestarts": 1},
    "model": {"type": "gpt", "layers": 2, "dModel": 32, "heads": 4, "seqLen": 16, "vocab": 128},
    "data": {"type": "arithmetic", "seed": 7},
    "training": {"steps": 60, "batchSize": 16, "learningRate": 0.003, "seed": 11, "evalEvery": 20},
    "parallelism": {"stages": 2, "microBatches": 4, "schedule": "1f1b"},
    "checkpoint": {"everySteps": 20, "keepLast": 2},
}


def wait_until_finished(jobs, job_id, timeout_s=600):
    """Polls the job until it has ended (SUCCEEDED, FAILED, CANCELLED or BUDGET_EXHAUSTED)."""
    deadline = time.monotonic() + timeout_s
    while True:
        job = jobs.get_job(job_id)
        if job.finished_at is not None:
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job.state} after {timeout_s} s")
        step = job.progress.step if job.progress else 0
        print(f"  {job.state:<9} step {step}/{SPEC['training']['steps']}", flush=True)
        time.sleep(1)


def download_export(client, job_id, folder):
    """Writes the job's final export (model.safetensors, config.json) into `folder`, each file checked against
    the SHA-256 the platform verified when the runner uploaded it. Returns the listing."""
    export = JobsApi(client).get_job_export(job_id)
    os.makedirs(folder, exist_ok=True)
    # Ask for the bytes themselves: the generated method would prefer a JSON type, which a download is not.
    with ApiClient(client.configuration, header_name="Accept", header_value="application/octet-stream") as raw:
        for f in export.files:
            content = JobsApi(raw).download_export_file(job_id, f.name)
            if hashlib.sha256(content).hexdigest() != f.sha256:
                raise IOError(f"{f.name} of job {job_id} arrived damaged")
            with open(os.path.join(folder, f.name), "wb") as out:
                out.write(content)
    return export


def main(out_path):
    config = Configuration(host=API, access_token=token())
    with ApiClient(config) as client:
        jobs = JobsApi(client)
        job = jobs.submit_job(JobSpec.from_dict(SPEC))
        print(f"submitted job {job.id} ({job.state})", flush=True)

        job = wait_until_finished(jobs, job.id)
        print(f"job {job.id} {job.state}", flush=True)
        if job.state != "SUCCEEDED":
            return 1

        metrics = jobs.get_job_metrics(job.id, names="loss,eval_loss")
        for series in metrics.series:
            first, last = series.points[0], series.points[-1]
            print(f"{series.name}: {first.value!r} at step {first.step} -> {last.value!r} at step {last.step}")

        export = download_export(client, job.id, out_path)
        for f in export.files:
            print(f"exported {f.name}: {os.path.join(out_path, f.name)} ({f.size_bytes} bytes, sha256 {f.sha256})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "trained-model"))
