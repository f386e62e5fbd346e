-- Metric points are written only by a batch whose attempt passed the fence (FencedAttempt) and stays locked
-- (key share) until the batch commits: that attempt exists and references its job, and neither can be deleted
-- meanwhile. The per-row foreign-key checks therefore proved nothing new, and together they cost more
-- PostgreSQL CPU than the insert itself (docs/benchmarks.md, "Metrics ingestion").
alter table metric_points
  drop constraint metric_points_job_id_fkey,
  drop constraint metric_points_attempt_id_fkey;

-- What the dropped constraints still did: deleting a job deletes its points (attempts are deleted only with
-- their job, so this covers the attempts' cascade too). A statement-level trigger costs nothing per point.
create function metric_points_forget_jobs() returns trigger language plpgsql as $$
begin
  delete from metric_points m using gone where m.job_id = gone.id;
  return null;
end
$$;

create trigger jobs_forget_metric_points after delete on jobs
  referencing old table as gone for each statement execute function metric_points_forget_jobs();
