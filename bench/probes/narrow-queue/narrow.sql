-- The narrow tables of the `hot` and `leases` variants.
CREATE TABLE queue_items (
    organization_id uuid NOT NULL,
    task_id uuid NOT NULL,
    priority integer NOT NULL,
    created_at timestamp with time zone NOT NULL,
    run_after timestamp with time zone,
    PRIMARY KEY (organization_id, task_id)
) WITH (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_cost_limit = 2000);
CREATE INDEX idx_queue_items_claim ON queue_items (organization_id, priority DESC, created_at, task_id);
CREATE TABLE task_leases (
    organization_id uuid NOT NULL,
    task_id uuid NOT NULL,
    agent_id uuid NOT NULL,
    lease_token uuid NOT NULL,
    lease_expires_at timestamp with time zone NOT NULL,
    PRIMARY KEY (organization_id, task_id)
) WITH (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_cost_limit = 2000);
CREATE INDEX idx_task_leases_expiry ON task_leases (organization_id, lease_expires_at);
