-- A job's final export (docs/exported-weights.md): the files its runner writes after the last step, uploaded
-- and verified like checkpoints before the attempt may end SUCCEEDED. One row per file and job: a later attempt
-- that completes the job again replaces the file under the same name. Retention never removes an export;
-- deleting a job's checkpoints leaves it.
create table job_exports (
  job_id      bigint not null references jobs (id) on delete cascade,
  name        text not null check (name in ('model.safetensors', 'config.json', 'model.pt')),
  attempt_id  bigint not null references attempts (id) on delete cascade,
  path        text not null,
  size_bytes  bigint not null check (size_bytes > 0),
  sha256      text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  created_at  timestamptz not null,
  primary key (job_id, name)
);
create index job_exports_attempt_idx on job_exports (attempt_id);
