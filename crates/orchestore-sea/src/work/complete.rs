//! Completions: the end of a run in success, one at a time or for everything one claim handed
//! out.
//!
//! On PostgreSQL a completion whose task no task depends on (`has_dependents` false) and that
//! runs no workflow step changes nothing beyond the task, its history and its agent's counters,
//! so the runs of all such tasks of a call end in one statement, outside any transaction: one
//! round trip instead of a transaction of six, shared with the calls that arrive while another
//! such statement runs (see `work::together`). The statement's conditions on the row it updates
//! — running, this lease's token, no dependents, no result stored apart — are checked again on the row's latest version
//! when a concurrent change (a cancel, an expiry, a new dependent, see
//! [`SeaStore::mark_depended_on`]) commits first, and then it leaves the task alone; a task's
//! workflow step is written with the task and never added later. What it leaves, and every
//! completion on SQLite, goes down the full path: one transaction that locks each task, checks
//! its lease and carries what follows from its end (dependents, the workflow execution).

use std::collections::HashMap;

use orchestore_domain::{Completion, Completions, Payload, Progress, Task, TaskEventId};
use orchestore_repo::{Ctx, RepoError, RepoResult};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, Value};
use serde_json::{Map, json};
use uuid::Uuid;

use super::bodies::{BodyKind, json_bytes};
use super::entity::tasks;
use super::tasks::to_task;
use super::together::{Joined, Together, Waiting};
use crate::SeaStore;
use crate::error::db_err;
use crate::mutation::Mutation;

/// The one-statement completion on PostgreSQL, for the completions of every call waiting (see
/// `work::together`). `$1` the completions (a JSON array of `{org, id, token, event, actor,
/// caller, result?}`: the task's organization and id, its lease's token, the id of its history
/// event, who completes it, the position of its call in the batch, and what it produced boxed as
/// `{"v": …}`, so that a JSON `null` result stays one), `$2` now. Answers the tasks it
/// completed, each with its call's position (`caller`): when two calls complete one task, one
/// row of the input updates it, and only that call has it. The agents' rows are locked in one
/// order (`locked`) before their counters change, so that two such statements sharing agents
/// never deadlock.
pub const COMPLETE_POSTGRES: &str = "\
WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb)
        AS i(org uuid, id uuid, token uuid, event uuid, actor text, caller int, result jsonb)
), done AS (
    UPDATE tasks t SET status = 'succeeded', lease_token = NULL, lease_expires_at = NULL,
        result = i.result -> 'v', error = NULL, progress = 100, finished_at = $2, updated_at = $2,
        revision = t.revision + 1
    FROM input i
    WHERE t.organization_id = i.org AND t.id = i.id AND t.status = 'running'
      AND t.lease_token = i.token AND NOT t.has_dependents AND t.result_bytes IS NULL
      AND NOT EXISTS (SELECT 1 FROM workflow_execution_tasks w
          WHERE w.organization_id = i.org AND w.task_id = t.id)
    RETURNING t.*, i.event, i.actor AS completed_by, i.caller
), history AS (
    INSERT INTO task_events
        (organization_id, id, task_id, from_status, to_status, actor, reason, created_at)
    SELECT organization_id, event, id, 'running', 'succeeded', completed_by,
        CASE WHEN assigned_agent_id IS NULL THEN 'completed'
             ELSE 'completed by agent ' || assigned_agent_id END, $2
    FROM done
), per_agent AS (
    SELECT organization_id, assigned_agent_id AS id, count(*) AS runs,
        sum(greatest(0, floor(extract(epoch FROM $2 - started_at) * 1000)))::bigint AS millis
    FROM done WHERE assigned_agent_id IS NOT NULL GROUP BY organization_id, assigned_agent_id
), locked AS (
    SELECT a.organization_id, a.id FROM agents a
    WHERE (a.organization_id, a.id) IN (SELECT organization_id, id FROM per_agent)
    ORDER BY a.organization_id, a.id
    FOR NO KEY UPDATE
), counted AS (
    UPDATE agents a SET tasks_completed = a.tasks_completed + d.runs,
        total_task_millis = a.total_task_millis + d.millis, revision = a.revision + 1
    FROM locked l JOIN per_agent d ON d.organization_id = l.organization_id AND d.id = l.id
    WHERE a.organization_id = l.organization_id AND a.id = l.id
)
SELECT * FROM done";

/// The values of [`COMPLETE_POSTGRES`] for `input`, its records.
fn values(input: Vec<serde_json::Value>) -> Vec<Value> {
    vec![
        serde_json::Value::Array(input).into(),
        crate::store::now().into(),
    ]
}

/// One call's completions for the one-statement path: what it asks, as records of
/// [`COMPLETE_POSTGRES`]'s input without their call's position.
pub(crate) struct OneStatementCompletions(Vec<Map<String, serde_json::Value>>);

impl Joined for OneStatementCompletions {
    /// The rows of the tasks it completed.
    type Answer = Vec<tasks::Model>;
    const WRITERS: usize = 2;
    /// Completions.
    const MOST: usize = 256;
    const WHAT: &'static str = "completion";

    fn weight(&self) -> usize {
        self.0.len()
    }

    fn queue(store: &SeaStore) -> &Together<Self> {
        &store.joins.completions
    }

    async fn run(store: &SeaStore, batch: Vec<Waiting<Self>>) {
        let mut input = Vec::new();
        for (caller, waiting) in batch.iter().enumerate() {
            for record in &waiting.job.0 {
                let mut record = record.clone();
                record.insert("caller".into(), json!(caller));
                input.push(serde_json::Value::Object(record));
            }
        }
        let fetched = match store.shared_connection().await {
            Ok(mut conn) => {
                store
                    .fetch_all_shared(&mut conn, COMPLETE_POSTGRES, values(input))
                    .await
            }
            Err(failed) => Err(failed),
        };
        let rows = match fetched {
            Ok(rows) => rows,
            Err(failed) => return failed.answer_all(batch),
        };
        let mut answers: Vec<RepoResult<Vec<tasks::Model>>> =
            batch.iter().map(|_| Ok(Vec::new())).collect();
        for row in rows {
            let decoded = row
                .try_get::<i32>("", "caller")
                .and_then(|caller| Ok((caller, tasks::Model::from_query_result(&row, "")?)));
            match decoded {
                Ok((caller, model)) => {
                    if let Some(Ok(rows)) = usize::try_from(caller)
                        .ok()
                        .and_then(|caller| answers.get_mut(caller))
                    {
                        rows.push(model);
                    }
                }
                // A row that does not decode leaves every call of the statement with the error:
                // which call it belonged to is not known.
                Err(err) => {
                    for answer in &mut answers {
                        *answer = Err(db_err(err.clone()));
                    }
                }
            }
        }
        for (waiting, answer) in batch.into_iter().zip(answers) {
            waiting.answer(answer);
        }
    }
}

/// Whether `err` refuses one completion (its task is not there, or its run is over) rather
/// than failing the call.
fn refuses_one(err: &RepoError) -> bool {
    matches!(err, RepoError::NotFound { .. } | RepoError::Stale { .. })
}

fn completion_reason(row: &tasks::Model) -> String {
    match row.assigned_agent_id {
        Some(agent) => format!("completed by agent {agent}"),
        None => "completed".to_owned(),
    }
}

impl SeaStore {
    /// Ends the runs of `completions` as [`orchestore_repo::QueueRepo::complete_tasks`]
    /// describes.
    pub(super) async fn complete(
        &self,
        ctx: &Ctx,
        completions: Completions,
    ) -> RepoResult<Vec<RepoResult<Task>>> {
        let mut ended = if self.is_postgres() {
            self.complete_in_one_statement(ctx, completions.as_slice())
                .await?
        } else {
            HashMap::new()
        };
        let rest: Vec<&Completion> = completions
            .as_slice()
            .iter()
            .filter(|c| !ended.contains_key(&c.task.as_uuid()))
            .collect();
        if !rest.is_empty() {
            let outcomes = self
                .mutate(ctx, async |m| {
                    let mut outcomes = Vec::with_capacity(rest.len());
                    for completion in &rest {
                        match self.complete_in(m, completion).await {
                            Err(err) if !refuses_one(&err) => return Err(err),
                            outcome => outcomes.push(outcome),
                        }
                    }
                    Ok(outcomes)
                })
                .await?;
            for (completion, outcome) in rest.iter().zip(outcomes) {
                ended.insert(completion.task.as_uuid(), outcome);
            }
        }
        super::queue_metrics::completed(ended.values().filter(|outcome| outcome.is_ok()).count());
        completions
            .into_vec()
            .into_iter()
            .map(|c| {
                ended
                    .remove(&c.task.as_uuid())
                    .ok_or_else(|| RepoError::internal("a completion was answered by nothing"))
            })
            .collect()
    }

    /// The one-statement path (PostgreSQL): the tasks it completed, by id. Outside a store
    /// transaction the statement also carries the completions of other calls waiting with it.
    async fn complete_in_one_statement(
        &self,
        ctx: &Ctx,
        completions: &[Completion],
    ) -> RepoResult<HashMap<Uuid, RepoResult<Task>>> {
        // A result stored apart is written with its task in the full path's transaction.
        let records: Vec<Map<String, serde_json::Value>> = completions
            .iter()
            .filter(|c| {
                c.result
                    .as_ref()
                    .is_none_or(|r| !self.stored_apart(json_bytes(r.as_value())))
            })
            .map(|c| {
                let mut record = Map::new();
                record.insert("org".into(), json!(ctx.org()));
                record.insert("id".into(), json!(c.task));
                record.insert("token".into(), json!(c.lease_token));
                record.insert("event".into(), json!(TaskEventId::new()));
                record.insert("actor".into(), json!(ctx.actor().to_string()));
                if let Some(result) = &c.result {
                    record.insert("result".into(), json!({ "v": result.as_value() }));
                }
                record
            })
            .collect();
        if records.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = if self.inside_store_transaction() {
            let input: Vec<serde_json::Value> = records
                .into_iter()
                .map(|mut record| {
                    record.insert("caller".into(), json!(0));
                    serde_json::Value::Object(record)
                })
                .collect();
            let statement = Statement::from_sql_and_values(
                DbBackend::Postgres,
                COMPLETE_POSTGRES,
                values(input),
            );
            let rows = self
                .db()
                .await
                .query_all_raw(statement)
                .await
                .map_err(db_err)?;
            rows.iter()
                .map(|row| tasks::Model::from_query_result(row, "").map_err(db_err))
                .collect::<RepoResult<Vec<_>>>()?
        } else {
            self.together(OneStatementCompletions(records)).await?
        };
        let mut ended = HashMap::with_capacity(rows.len());
        for row in rows {
            ended.insert(row.id, Ok(to_task(row)?));
        }
        Ok(ended)
    }

    /// The full path for one completion, inside `m`: locks the task, checks the lease, ends the
    /// run and carries the tasks waiting for it.
    async fn complete_in(&self, m: &Mutation<'_>, completion: &Completion) -> RepoResult<Task> {
        use sea_orm::Set;
        let row = self
            .leased(m, completion.task, completion.lease_token)
            .await?;
        let reason = completion_reason(&row);
        let result = completion.result.clone().map(Payload::into_value);
        let had_body = row.result_bytes.is_some();
        let (result, result_bytes) = self
            .place_body(m, row.id, BodyKind::Result, result, had_body)
            .await?;
        let mut task = self
            .end_run(
                m,
                row,
                orchestore_domain::TaskStatus::Succeeded,
                reason,
                |update| {
                    update.result = Set(result);
                    update.result_bytes = Set(result_bytes);
                    update.error = Set(None);
                    update.progress = Set(i16::from(Progress::MAX));
                },
            )
            .await?;
        // The answer carries the result as it was given, wherever it is stored.
        if task.result_bytes.take().is_some() {
            task.result = completion.result.clone();
        }
        Ok(task)
    }
}
