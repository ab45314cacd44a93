-- Variant `append`: the narrow tables of `leases`, and a completion that writes no task row
-- either: the outcome goes to a narrow task_outcomes table (a task's state would be read from
-- its lease and its outcome). The task row is written once, at creation.
DROP INDEX idx_tasks_claimable, idx_tasks_fairness_queued, idx_tasks_rate_limited_queued,
    idx_tasks_lease_expiry;
\ir narrow.sql
CREATE TABLE task_outcomes (
    organization_id uuid NOT NULL,
    task_id uuid NOT NULL,
    status character varying(16) NOT NULL,
    result jsonb,
    finished_at timestamp with time zone NOT NULL,
    PRIMARY KEY (organization_id, task_id)
);
CREATE INDEX idx_task_outcomes_finished_at ON task_outcomes (organization_id, finished_at);
