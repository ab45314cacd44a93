-- Variant `leases`: the narrow queue_items and task_leases tables of `hot`, and a claim that
-- writes no task row at all (a task is running while it has a lease); the completion updates
-- the task once, under every index of today but the queue's and the lease's.
DROP INDEX idx_tasks_claimable, idx_tasks_fairness_queued, idx_tasks_rate_limited_queued,
    idx_tasks_lease_expiry;
\ir narrow.sql
