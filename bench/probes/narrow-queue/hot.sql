-- Variant `hot`: the claimable tasks in a narrow queue_items table (deleted on claim) and the
-- running ones' leases in task_leases (inserted on claim, deleted on completion); tasks keeps
-- only the indexes on columns a claim and a completion never change, so that both update its
-- row in place (HOT) in the room fillfactor leaves. An upper bound: listing tasks by status,
-- agent or finish time would need structures of their own, not built here.
DROP INDEX idx_tasks_claimable, idx_tasks_fairness_queued, idx_tasks_rate_limited_queued,
    idx_tasks_lease_expiry, idx_tasks_organization_assigned_agent, idx_tasks_organization_status_id,
    idx_tasks_concurrency_key_status, idx_tasks_organization_finished_at,
    idx_tasks_organization_project_finished_at;
ALTER TABLE tasks SET (fillfactor = 70);
\ir narrow.sql
