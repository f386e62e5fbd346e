-- A data-parallel attempt spread over several runners: rank 0 hosts the TCP stores through which the replica
-- processes find each other and publishes their address here; the other ranks read it in their assignment.
alter table attempts
  add column rendezvous_host text check (rendezvous_host is null or length(rendezvous_host) between 1 and 255),
  add column rendezvous_port int check (rendezvous_port is null or rendezvous_port between 1 and 65535),
  add constraint attempts_rendezvous_whole check ((rendezvous_host is null) = (rendezvous_port is null));
