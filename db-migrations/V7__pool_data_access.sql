-- What a pool's jobs may read through data.uri and model.uri (docs/security/data.md). A pool made before this
-- migration reads nothing until an admin names its data roots or allowed hosts.
alter table pools
  add column data_roots              jsonb   not null default '[]' check (jsonb_typeof(data_roots) = 'array'),
  add column allowed_hosts           jsonb   not null default '[]' check (jsonb_typeof(allowed_hosts) = 'array'),
  add column allow_private_networks  boolean not null default false,
  add column max_download_bytes      bigint  not null default 1073741824 check (max_download_bytes > 0);
