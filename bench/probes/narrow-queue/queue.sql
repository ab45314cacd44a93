-- Variant `queue`: the claimable tasks in the narrow queue_items table (deleted on claim) in
-- place of `tasks`' three partial indexes on queued rows; the claim and the completion still
-- update the task row as today (leases stay in it). The first step alone, without its gain.
DROP INDEX idx_tasks_claimable, idx_tasks_fairness_queued, idx_tasks_rate_limited_queued;
\ir narrow.sql
