-- Where a job's loss diverged, as data (docs/security/limits.md): the step and that step's loss, on the job that
-- ended TRAINING_DIVERGED and on the event that ended it. The loss may be NaN or +-Infinity, which float8 holds.
alter table jobs
  add column divergence_step  bigint check (divergence_step >= 0),
  add column divergence_loss  double precision,
  add constraint jobs_divergence_whole check ((divergence_step is null) = (divergence_loss is null)),
  add constraint jobs_divergence_only_failed check (divergence_step is null or state = 'FAILED');

alter table job_events
  add column divergence_step  bigint check (divergence_step >= 0),
  add column divergence_loss  double precision,
  add constraint job_events_divergence_whole check ((divergence_step is null) = (divergence_loss is null));
