-- The peak FLOP/s of one device of a pool, as its admin declares it (issue 14, item 7): runners are told it with
-- each assignment and report model FLOP utilization against it. Null means not declared: no MFU is reported.
alter table pools
  add column peak_flops_per_device double precision
    check (peak_flops_per_device is null or (peak_flops_per_device > 0 and peak_flops_per_device <= 1e18));
