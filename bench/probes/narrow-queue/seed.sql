-- :n queued tasks of one organization and project, each with its `created` event, and, where
-- the variant has them, its queue item.
INSERT INTO tasks (organization_id, id, project_id, title, description, status, priority,
    payload, required_capabilities, metadata, created_at, updated_at, progress, tags,
    attempts, max_attempts, claim_assigned)
SELECT '00000000-0000-7000-8000-000000000001', gen_random_uuid(), '00000000-0000-7000-8000-000000000002',
    'job ' || g, '', 'queued', 0, jsonb_build_object('i', g), '[]', '{}',
    now() + g * interval '1 microsecond', now(), 0, '[]', 0, 3, false
FROM generate_series(1, :n) AS g;
INSERT INTO task_events (organization_id, id, task_id, from_status, to_status, actor, reason, created_at)
SELECT organization_id, gen_random_uuid(), id, NULL, 'queued', 'system', 'created', created_at FROM tasks;
SELECT to_regclass('queue_items') IS NOT NULL AS narrow \gset
\if :narrow
INSERT INTO queue_items (organization_id, task_id, priority, created_at, run_after)
SELECT organization_id, id, priority, created_at, run_after FROM tasks;
\endif
VACUUM ANALYZE;
CHECKPOINT;
