-- One worker's turn in variant `queue`: claim up to :batch tasks, then complete them in one
-- statement. Run by narrow-queue.sh with pgbench -M prepared -D batch=N.
WITH picked AS (
    DELETE FROM queue_items q
    WHERE q.organization_id = '00000000-0000-7000-8000-000000000001' AND q.task_id = ANY (ARRAY(
        SELECT i.task_id FROM queue_items i
        WHERE i.organization_id = '00000000-0000-7000-8000-000000000001' AND (i.run_after IS NULL OR i.run_after <= now())
        ORDER BY i.priority DESC, i.created_at, i.task_id
        LIMIT :batch
        FOR UPDATE SKIP LOCKED))
    RETURNING q.task_id AS id
), claimed AS (
    UPDATE tasks t SET status = 'running', assigned_agent_id = '00000000-0000-7000-8000-000000000003',
        attempts = t.attempts + 1, lease_token = gen_random_uuid(),
        lease_expires_at = now() + interval '300 seconds', started_at = now(), updated_at = now(),
        revision = t.revision + 1
    WHERE t.organization_id = '00000000-0000-7000-8000-000000000001' AND t.id = ANY (ARRAY(SELECT p.id FROM picked p))
    RETURNING t.id, t.lease_token
), history AS (
    INSERT INTO task_events
        (organization_id, id, task_id, from_status, to_status, actor, reason, created_at)
    SELECT '00000000-0000-7000-8000-000000000001', gen_random_uuid(), c.id, 'queued', 'running', 'system', 'claimed by agent', now()
    FROM claimed c
)
SELECT array_agg(id)::text AS ids, array_agg(lease_token)::text AS tokens FROM claimed
\gset
WITH done AS (
    UPDATE tasks t SET status = 'succeeded', lease_token = NULL, lease_expires_at = NULL,
        finished_at = now(), updated_at = now(), result = '{"ok": true}', revision = t.revision + 1
    FROM unnest(:ids::uuid[], :tokens::uuid[]) AS u(id, token)
    WHERE t.organization_id = '00000000-0000-7000-8000-000000000001' AND t.id = u.id AND t.lease_token = u.token
    RETURNING t.id
)
INSERT INTO task_events
    (organization_id, id, task_id, from_status, to_status, actor, reason, created_at)
SELECT '00000000-0000-7000-8000-000000000001', gen_random_uuid(), d.id, 'running', 'succeeded', 'system', 'completed', now()
FROM done d;
