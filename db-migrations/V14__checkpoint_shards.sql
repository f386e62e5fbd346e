-- Sharded checkpoints (issue 14, item 4): each data-parallel process of an attempt uploads its own shard of a
-- checkpoint. The checkpoint row says how many shards make it whole; it stays UPLOADING, and so is neither listed,
-- resumed from nor counted by retention, until every shard has arrived verified. A whole checkpoint is one shard.
-- Its path is then the folder holding the shards, its size their sum and its sha256 the digest of the shard list.
alter table checkpoints
  add column shard_count int not null default 1 check (shard_count between 1 and 4096);

create table checkpoint_shards (
  checkpoint_id bigint not null references checkpoints (id) on delete cascade,
  shard         int not null check (shard >= 0),
  runner_id     bigint not null references runners (id),
  path          text not null,
  size_bytes    bigint not null check (size_bytes > 0),
  sha256        text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  received_at   timestamptz not null,
  primary key (checkpoint_id, shard)
);

-- one row per sharded checkpoint of an attempt's step, whichever shard arrives first
create unique index checkpoints_sharded_step_idx on checkpoints (attempt_id, step)
  where shard_count > 1 and state <> 'DELETED';
