//! New tasks as PostgreSQL inserts them, a call's tasks at once: the statement head that
//! inserts them with their creation events from one JSON parameter, and the record each task
//! is in that parameter. Enqueueing (`work::enqueue`) and the one-statement creates
//! (`work::create_one`, `work::plain_batch`) share them.

use chrono::{DateTime, Utc};
use orchestore_domain::TaskEventId;
use sea_orm::Value;
use serde::Serialize;
use uuid::Uuid;

use super::entity::tasks;

/// The tasks of `$1` (a JSON array of [`TaskRecord`]s) inserted with their creation events,
/// whose actor is the SQL expression `$actor` (a parameter, or the rows' own `actor`): the
/// common head of `work::enqueue`'s insert of new tasks and of the one-statement creates
/// (`work::create_one`), which go on from its `inserted` rows.
macro_rules! insert_tasks_with_history {
    ($actor:literal) => {
        concat!("\
WITH r AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(organization_id uuid, id uuid,
        project_id uuid, title text, description text, status text, priority integer,
        payload jsonb, required_capabilities jsonb, metadata jsonb, created_at timestamptz,
        updated_at timestamptz, parent_id uuid, assigned_agent_id uuid, estimated_minutes integer,
        progress smallint, tags jsonb, attempts integer, max_attempts integer,
        run_after timestamptz, idempotency_key text, claim_assigned boolean,
        has_dependents boolean, rate_limits jsonb, finished_at timestamptz, concurrency_key text,
        concurrency_limit integer, concurrency_strategy text, payload_bytes bigint,
        fairness_key text, fairness_weight integer, event_id uuid, reason text,
        actor text)
), inserted AS (
    INSERT INTO tasks (organization_id, id, project_id, title, description, status, priority,
        payload, required_capabilities, metadata, created_at, updated_at, parent_id,
        assigned_agent_id, estimated_minutes, progress, tags, attempts, max_attempts, run_after,
        idempotency_key, claim_assigned, has_dependents, rate_limits, finished_at, concurrency_key,
        concurrency_limit, concurrency_strategy, payload_bytes, fairness_key, fairness_weight)
    -- A JSON null payload leaves the recordset as SQL NULL: it is stored as JSON null.
    -- A value a record leaves out is its column's usual value (see `TaskRecord`).
    SELECT organization_id, id, project_id, title, COALESCE(description, ''), status, priority,
        COALESCE(payload, 'null'), COALESCE(required_capabilities, '[]'),
        COALESCE(metadata, '{}'), created_at, COALESCE(updated_at, created_at), parent_id,
        assigned_agent_id, estimated_minutes, COALESCE(progress, 0), COALESCE(tags, '[]'),
        COALESCE(attempts, 0), max_attempts, run_after, idempotency_key,
        COALESCE(claim_assigned, false), COALESCE(has_dependents, false),
        COALESCE(rate_limits, '[]'), finished_at, concurrency_key, concurrency_limit,
        concurrency_strategy, payload_bytes, fairness_key, fairness_weight
    FROM r
    RETURNING *
), history AS (
    INSERT INTO task_events
        (organization_id, id, task_id, from_status, to_status, actor, reason, created_at)
    SELECT organization_id, event_id, id, NULL, status, ", $actor, ", reason, created_at FROM r
)")
    };
}
pub(super) use insert_tasks_with_history;

/// A new task as one record of [`insert_tasks_with_history`]: the columns of its row the statement
/// reads, the id and reason of its creation event, and its actor where the statement takes one
/// per record. It borrows the row and leaves out what a new task usually has — an absent value,
/// an empty description, list or object, a zero, `false`, an update time equal to the creation
/// time — which the statement reads back as that value (`jsonb_to_recordset` reads a missing
/// key as NULL, and the statement's `COALESCE`s put the usual value in its place). The server
/// parses no more JSON than the tasks hold: a task's record was 942 bytes with every column of
/// its row, and parsing a call's thousand of them took a third of the call.
#[derive(Serialize)]
pub(super) struct TaskRecord<'a> {
    event_id: TaskEventId,
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<&'a str>,
    organization_id: Uuid,
    id: Uuid,
    project_id: Uuid,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    status: &'a str,
    priority: i32,
    payload: &'a serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    required_capabilities: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a serde_json::Value>,
    created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    updated_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assigned_agent_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    estimated_minutes: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    progress: Option<i16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attempts: Option<i32>,
    max_attempts: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_after: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    idempotency_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    claim_assigned: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    has_dependents: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limits: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finished_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    concurrency_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    concurrency_limit: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    concurrency_strategy: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload_bytes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fairness_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fairness_weight: Option<i32>,
}

impl<'a> TaskRecord<'a> {
    pub(super) fn new(row: &'a tasks::Model, reason: &'a str, actor: Option<&'a str>) -> Self {
        Self {
            event_id: TaskEventId::new(),
            reason,
            actor,
            organization_id: row.organization_id,
            id: row.id,
            project_id: row.project_id,
            title: &row.title,
            description: unusual(row.description.as_str(), |d| d.is_empty()),
            status: &row.status,
            priority: row.priority,
            payload: &row.payload,
            required_capabilities: unusual(&row.required_capabilities, empty_list),
            metadata: unusual(&row.metadata, empty_object),
            created_at: row.created_at,
            updated_at: unusual(row.updated_at, |at| *at == row.created_at),
            parent_id: row.parent_id,
            assigned_agent_id: row.assigned_agent_id,
            estimated_minutes: row.estimated_minutes,
            progress: unusual(row.progress, |p| *p == 0),
            tags: unusual(&row.tags, empty_list),
            attempts: unusual(row.attempts, |a| *a == 0),
            max_attempts: row.max_attempts,
            run_after: row.run_after,
            idempotency_key: row.idempotency_key.as_deref(),
            claim_assigned: unusual(row.claim_assigned, |c| !c),
            has_dependents: unusual(row.has_dependents, |h| !h),
            rate_limits: unusual(&row.rate_limits, empty_list),
            finished_at: row.finished_at,
            concurrency_key: row.concurrency_key.as_deref(),
            concurrency_limit: row.concurrency_limit,
            concurrency_strategy: row.concurrency_strategy.as_deref(),
            payload_bytes: row.payload_bytes,
            fairness_key: row.fairness_key.as_deref(),
            fairness_weight: row.fairness_weight,
        }
    }
}

/// `value`, unless it is the usual one (`usual`), which a [`TaskRecord`] leaves out.
fn unusual<T>(value: T, usual: impl FnOnce(&T) -> bool) -> Option<T> {
    (!usual(&value)).then_some(value)
}

/// An empty JSON list: what a new task's lists usually are (`'[]'` in the statement).
fn empty_list(value: &&serde_json::Value) -> bool {
    value.as_array().is_some_and(Vec::is_empty)
}

/// An empty JSON object: what a new task's metadata usually is (`'{}'` in the statement).
fn empty_object(value: &&serde_json::Value) -> bool {
    value.as_object().is_some_and(serde_json::Map::is_empty)
}

/// `records` as the one JSON parameter a statement reads them from (`$n::jsonb`), written
/// as text without building a JSON tree first; or why they could not be.
pub(super) fn json_parameter(records: &impl Serialize) -> Result<Value, String> {
    serde_json::to_string(records)
        .map(Value::from)
        .map_err(|e| format!("records not written as JSON: {e}"))
}
