-- Trainyard schema, first version. Forward-only: later changes come as new V<n>__*.sql files.
-- Invariants that must hold whatever the code does are CHECK constraints here.

create table projects (
  id          bigint generated always as identity primary key,
  name        text not null unique check (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  budget_usd  numeric(16, 6) check (budget_usd is null or budget_usd >= 0),
  share       double precision not null default 1 check (share > 0),
  created_at  timestamptz not null
);

create table api_tokens (
  id           bigint generated always as identity primary key,
  name         text not null,
  -- SHA-256 of the secret; the secret itself is shown once and never stored.
  token_hash   bytea not null unique,
  prefix       text not null,
  role         text not null check (role in ('ADMIN', 'MEMBER', 'RUNNER')),
  project_id   bigint references projects (id),
  created_at   timestamptz not null,
  revoked_at   timestamptz,
  last_used_at timestamptz,
  check ((role = 'MEMBER') = (project_id is not null))
);

create table pools (
  id                  bigint generated always as identity primary key,
  name                text not null unique check (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  gpu_type            text not null check (length(gpu_type) between 1 and 64),
  price_per_gpu_hour  numeric(16, 6) not null check (price_per_gpu_hour >= 0),
  created_at          timestamptz not null
);

create table runners (
  id                 bigint generated always as identity primary key,
  pool_id            bigint not null references pools (id),
  name               text not null unique,
  host               text not null,
  state              text not null check (state in ('REGISTERED', 'ACTIVE', 'DRAINING', 'OFFLINE', 'LOST')),
  total_gpus         int not null check (total_gpus > 0),
  devices            jsonb not null default '[]',
  token_id           bigint references api_tokens (id),
  registered_at      timestamptz not null,
  last_heartbeat_at  timestamptz,
  version            bigint not null default 0
);

create table jobs (
  id                   bigint generated always as identity primary key,
  project_id           bigint not null references projects (id),
  name                 text not null,
  spec                 jsonb not null,
  priority             text not null check (priority in ('LOW', 'NORMAL', 'HIGH', 'URGENT')),
  pool_id              bigint references pools (id),
  gpu_type             text,
  gpus                 int not null check (gpus > 0),
  min_gpus             int not null check (min_gpus > 0 and min_gpus <= gpus),
  multi_node           boolean not null default false,
  max_cost_usd         numeric(16, 6) check (max_cost_usd is null or max_cost_usd >= 0),
  max_runtime_seconds  bigint not null check (max_runtime_seconds > 0),
  max_restarts         int not null check (max_restarts >= 0),
  total_steps          bigint not null check (total_steps > 0),
  state                text not null check (state in ('QUEUED', 'SCHEDULED', 'RUNNING', 'PREEMPTED',
                                                      'SUCCEEDED', 'FAILED', 'CANCELLED', 'BUDGET_EXHAUSTED')),
  state_reason         text,
  -- why-pending, written by the scheduler each cycle for every waiting job
  pending_reason       text,
  pending_message      text,
  queue_position       int,
  estimated_start_at   timestamptz,
  cancel_requested     boolean not null default false,
  restarts             int not null default 0 check (restarts >= 0),
  accrued_cost_usd     numeric(18, 8) not null default 0 check (accrued_cost_usd >= 0),
  last_step            bigint not null default 0,
  idempotency_key      text,
  submitted_by         bigint references api_tokens (id),
  submitted_at         timestamptz not null,
  started_at           timestamptz,
  finished_at          timestamptz,
  version              bigint not null default 0,
  check (pool_id is not null or gpu_type is not null),
  check ((state in ('SUCCEEDED', 'FAILED', 'CANCELLED', 'BUDGET_EXHAUSTED')) = (finished_at is not null)),
  unique (project_id, idempotency_key)
);
create index jobs_state_idx on jobs (state) where finished_at is null;
create index jobs_project_idx on jobs (project_id, id desc);
create index jobs_pool_idx on jobs (pool_id, id desc);

create table attempts (
  id                  bigint generated always as identity primary key,
  job_id              bigint not null references jobs (id) on delete cascade,
  number              int not null check (number > 0),
  runner_id           bigint not null references runners (id),
  gpus                int not null check (gpus > 0),
  lease_token         uuid not null unique,
  state               text not null check (state in ('STARTING', 'RUNNING', 'PREEMPTING', 'STOPPING', 'ENDED')),
  stop_reason         text,
  started_at          timestamptz not null,
  ended_at            timestamptz,
  end_reason          text,
  last_checkpoint_at  timestamptz,
  -- when the attempt was asked to checkpoint and stop; after the grace period it is ended anyway
  stop_requested_at   timestamptz,
  -- the complete checkpoint this attempt resumes from, if any
  resume_checkpoint_id bigint,
  cost_accounted_to   timestamptz,
  accrued_cost_usd    numeric(18, 8) not null default 0 check (accrued_cost_usd >= 0),
  check ((state = 'ENDED') = (ended_at is not null)),
  unique (job_id, number)
);
create index attempts_live_idx on attempts (runner_id) where ended_at is null;

-- The runners of a multi-node (data-parallel) attempt; rank 0 is attempts.runner_id.
create table attempt_runners (
  attempt_id  bigint not null references attempts (id) on delete cascade,
  rank        int not null check (rank >= 0),
  runner_id   bigint not null references runners (id),
  gpus        int not null check (gpus > 0),
  primary key (attempt_id, rank)
);

create table job_events (
  id          bigint generated always as identity primary key,
  job_id      bigint not null references jobs (id) on delete cascade,
  at          timestamptz not null,
  from_state  text,
  to_state    text not null,
  reason      text not null,
  message     text,
  attempt_id  bigint references attempts (id) on delete set null
);
create index job_events_job_idx on job_events (job_id, id);

create table metric_points (
  job_id      bigint not null references jobs (id) on delete cascade,
  attempt_id  bigint not null references attempts (id) on delete cascade,
  step        bigint not null check (step >= 0),
  name        text not null,
  value       double precision not null,
  at          timestamptz not null,
  primary key (job_id, name, step)
);

create table job_logs (
  id          bigint generated always as identity primary key,
  job_id      bigint not null references jobs (id) on delete cascade,
  attempt_id  bigint not null references attempts (id) on delete cascade,
  at          timestamptz not null,
  line        text not null
);
create index job_logs_job_idx on job_logs (job_id, id);

create table checkpoints (
  id          bigint generated always as identity primary key,
  job_id      bigint not null references jobs (id) on delete cascade,
  attempt_id  bigint not null references attempts (id) on delete cascade,
  step        bigint not null check (step >= 0),
  state       text not null check (state in ('UPLOADING', 'COMPLETE', 'DELETED')),
  path        text not null,
  size_bytes  bigint check (size_bytes is null or size_bytes >= 0),
  sha256      text check (sha256 is null or sha256 ~ '^[0-9a-f]{64}$'),
  eval_loss   double precision,
  created_at  timestamptz not null,
  completed_at timestamptz,
  check ((state = 'COMPLETE') = (completed_at is not null and sha256 is not null))
);
create index checkpoints_job_idx on checkpoints (job_id, step desc);

-- Every cent: one row per accounting interval of an attempt. A project's spend is the sum of its rows.
create table cost_ledger (
  id           bigint generated always as identity primary key,
  project_id   bigint not null references projects (id),
  job_id       bigint not null references jobs (id) on delete cascade,
  attempt_id   bigint not null references attempts (id) on delete cascade,
  from_at      timestamptz not null,
  to_at        timestamptz not null check (to_at >= from_at),
  gpu_seconds  double precision not null check (gpu_seconds >= 0),
  amount_usd   numeric(18, 8) not null check (amount_usd >= 0),
  created_at   timestamptz not null
);
create index cost_ledger_project_idx on cost_ledger (project_id);

-- Singleton background loops (scheduler, rescuer) run only in the replica holding the lease.
create table leases (
  name        text primary key,
  holder      text not null,
  expires_at  timestamptz not null
);
