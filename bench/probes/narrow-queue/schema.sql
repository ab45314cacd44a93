-- The tasks and task_events tables of Orchestore (migrations up to 000053) with their checks and
-- indexes; the foreign keys and triggers are left out (the probe has one organization and no
-- concurrency keys). Every variant starts from this.
CREATE TABLE task_events (
    organization_id uuid NOT NULL,
    id uuid NOT NULL,
    task_id uuid NOT NULL,
    from_status character varying(16),
    to_status character varying(16) NOT NULL,
    actor character varying(128) NOT NULL,
    reason text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT ck_task_events_from_status CHECK (((from_status)::text = ANY ((ARRAY['blocked'::character varying, 'queued'::character varying, 'running'::character varying, 'succeeded'::character varying, 'failed'::character varying, 'cancelled'::character varying])::text[]))),
    CONSTRAINT ck_task_events_to_status CHECK (((to_status)::text = ANY ((ARRAY['blocked'::character varying, 'queued'::character varying, 'running'::character varying, 'succeeded'::character varying, 'failed'::character varying, 'cancelled'::character varying])::text[])))
);
CREATE TABLE tasks (
    id uuid NOT NULL,
    organization_id uuid NOT NULL,
    project_id uuid NOT NULL,
    title character varying(2000) NOT NULL,
    description text NOT NULL,
    status character varying(16) NOT NULL,
    priority integer NOT NULL,
    payload jsonb NOT NULL,
    required_capabilities jsonb NOT NULL,
    metadata jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    parent_id uuid,
    assigned_agent_id uuid,
    estimated_minutes integer,
    progress smallint DEFAULT 0 NOT NULL,
    tags jsonb DEFAULT '[]'::jsonb NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    max_attempts integer DEFAULT 3 NOT NULL,
    run_after timestamp with time zone,
    idempotency_key character varying(255),
    result jsonb,
    error jsonb,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    claim_assigned boolean DEFAULT false NOT NULL,
    lease_token uuid,
    lease_expires_at timestamp with time zone,
    has_dependents boolean DEFAULT false NOT NULL,
    concurrency_key character varying(128),
    concurrency_limit integer,
    concurrency_strategy character varying(16),
    rate_limits jsonb DEFAULT '[]'::jsonb NOT NULL,
    payload_bytes bigint,
    result_bytes bigint,
    fairness_key character varying(128),
    fairness_weight integer,
    revision bigint DEFAULT 1 NOT NULL,
    CONSTRAINT ck_tasks_attempts CHECK ((attempts >= 0)),
    CONSTRAINT ck_tasks_estimated_minutes CHECK (((estimated_minutes >= 1) AND (estimated_minutes <= 1000000))),
    CONSTRAINT ck_tasks_lease CHECK (((((status)::text = 'running'::text) AND ((lease_token IS NOT NULL) AND (lease_expires_at IS NOT NULL))) OR ((NOT ((status)::text = 'running'::text)) AND ((lease_token IS NULL) AND (lease_expires_at IS NULL))))),
    CONSTRAINT ck_tasks_max_attempts CHECK (((max_attempts >= 1) AND (max_attempts <= 100))),
    CONSTRAINT ck_tasks_progress CHECK (((progress >= 0) AND (progress <= 100))),
    CONSTRAINT ck_tasks_status CHECK (((status)::text = ANY ((ARRAY['blocked'::character varying, 'queued'::character varying, 'running'::character varying, 'succeeded'::character varying, 'failed'::character varying, 'cancelled'::character varying])::text[]))),
    CONSTRAINT tasks_concurrency_limit_check CHECK ((concurrency_limit >= 1)),
    CONSTRAINT tasks_concurrency_strategy_check CHECK (((concurrency_strategy)::text = ANY ((ARRAY['queue'::character varying, 'cancel_newest'::character varying])::text[]))),
    CONSTRAINT tasks_fairness_weight_check CHECK (((fairness_weight >= 1) AND (fairness_weight <= 1000)))
);
ALTER TABLE task_events ADD CONSTRAINT pk_task_events PRIMARY KEY (organization_id, id);
ALTER TABLE tasks ADD CONSTRAINT pk_tasks PRIMARY KEY (organization_id, id);
CREATE INDEX idx_task_events_organization_task_id ON task_events USING btree (organization_id, task_id, id);
CREATE INDEX idx_tasks_claimable ON tasks USING btree (organization_id, priority DESC, created_at, id) WHERE ((status)::text = 'queued'::text);
CREATE INDEX idx_tasks_concurrency_key_status ON tasks USING btree (organization_id, concurrency_key, status) WHERE (concurrency_key IS NOT NULL);
CREATE INDEX idx_tasks_fairness_queued ON tasks USING btree (organization_id, fairness_key, priority DESC, created_at, id) WHERE (((status)::text = 'queued'::text) AND (fairness_key IS NOT NULL));
CREATE INDEX idx_tasks_lease_expiry ON tasks USING btree (organization_id, lease_expires_at) WHERE ((status)::text = 'running'::text);
CREATE INDEX idx_tasks_organization_assigned_agent ON tasks USING btree (organization_id, assigned_agent_id) WHERE (assigned_agent_id IS NOT NULL);
CREATE INDEX idx_tasks_organization_finished_at ON tasks USING btree (organization_id, finished_at) WHERE (finished_at IS NOT NULL);
CREATE UNIQUE INDEX idx_tasks_organization_idempotency_key ON tasks USING btree (organization_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);
CREATE INDEX idx_tasks_organization_parent ON tasks USING btree (organization_id, parent_id) WHERE (parent_id IS NOT NULL);
CREATE INDEX idx_tasks_organization_priority_id ON tasks USING btree (organization_id, priority DESC, id);
CREATE INDEX idx_tasks_organization_project_finished_at ON tasks USING btree (organization_id, project_id, finished_at);
CREATE INDEX idx_tasks_organization_project_id ON tasks USING btree (organization_id, project_id, id);
CREATE INDEX idx_tasks_organization_status_id ON tasks USING btree (organization_id, status, id);
CREATE INDEX idx_tasks_rate_limited_queued ON tasks USING btree (organization_id, priority DESC, created_at, id) WHERE (((status)::text = 'queued'::text) AND (rate_limits <> '[]'::jsonb));
CREATE INDEX idx_tasks_tags ON tasks USING gin (tags);
