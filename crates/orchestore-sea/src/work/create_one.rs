//! One plain task created on PostgreSQL in one statement: its row, its first history entry,
//! its audit row and the `NOTIFY` that wakes waiting claims go in one autocommitted round trip
//! instead of a transaction of six (begin, the project's check, the insert, the notify, the
//! audit row, commit).
//!
//! A task is plain when nothing about it needs another row read first: no idempotency key,
//! dependency, parent, assigned agent, rate limit, concurrency or fairness key, and a payload
//! kept inline. Any other task, and every task on SQLite or inside a store transaction, takes
//! the general path (`enqueue`), which answers the same. The project is checked by the
//! composite foreign key `(organization_id, project_id)`: its violation is the same reference
//! error the general path's check answers, and a statement refused writes nothing.

use orchestore_domain::{Enqueued, NewTask, TaskId, TaskStatus};
use orchestore_repo::{Ctx, RepoError, RepoResult};
use sea_orm::{FromQueryResult, Value};
use serde_json::json;

use super::enqueue::{creation_reason, insert_tasks_with_history, new_row, recordset_row};
use super::entity::tasks;
use super::tasks::to_task;
use super::wakeups::CHANNEL;
use crate::SeaStore;
use crate::direct::Planned;
use crate::error::{corrupt, db_err, is_foreign_key_violation};
use crate::mutation::{Verb, audit_row, snapshot};

/// The task of `$1` with its creation event (`$2` the actor), its audit row (`$3`–`$12`), and
/// a `NOTIFY` on channel `$13` with payload `$14` unless `$13` is `NULL`.
const CREATE_ONE_POSTGRES: &str = concat!(
    insert_tasks_with_history!(),
    ", audit AS (
    INSERT INTO audit_logs (organization_id, id, actor, action, entity, entity_id, changes,
        request_id, created_at, client_addr, credential)
    VALUES ($3, $4, $2, $5, $6, $7, $8, $9, $10, $11, $12)
), notified AS (
    SELECT pg_notify($13, $14) WHERE $13::text IS NOT NULL
)
SELECT inserted.* FROM inserted LEFT JOIN notified ON true"
);

/// Whether `task` can be created without reading another row first.
fn is_plain(task: &NewTask) -> bool {
    task.idempotency_key.is_none()
        && task.depends_on.is_empty()
        && task.parent_id.is_none()
        && task.assigned_agent_id.is_none()
        && task.rate_limits.is_empty()
        && task.concurrency.is_none()
        && task.fairness.is_none()
}

impl SeaStore {
    /// Creates `task` in one statement when it is plain and the store is on PostgreSQL outside
    /// a transaction; gives it back when the general path must take it.
    pub(super) async fn create_plain_task(
        &self,
        ctx: &Ctx,
        task: NewTask,
    ) -> RepoResult<Result<Enqueued, NewTask>> {
        if !self.is_postgres() || self.inside_store_transaction() || !is_plain(&task) {
            return Ok(Err(task));
        }
        // The clock is read once a connection is held, as a transaction's is.
        let mut conn = self.postgres_connection().await?;
        let at = self.now();
        let id = TaskId::new();
        let mut row = new_row(ctx, at, &task, id.as_uuid(), TaskStatus::Queued);
        if !self.set_aside(&mut row).is_empty() {
            return Ok(Err(task));
        }
        let audit =
            audit_row::<tasks::Entity>(ctx, at, Verb::Create, id, snapshot(&to_task(row.clone())?));
        let org = ctx.org().as_uuid();
        let notify = self.wakeups.should_notify(org).then(|| CHANNEL.to_owned());
        let values: Vec<Value> = vec![
            json!([recordset_row(&row, &creation_reason(0))]).into(),
            ctx.actor().to_string().into(),
            audit.organization_id.into(),
            audit.id.into(),
            audit.action.into(),
            audit.entity.into(),
            audit.entity_id.into(),
            audit.changes.into(),
            audit.request_id.into(),
            audit.created_at.into(),
            audit.client_addr.into(),
            audit.credential.into(),
            notify.into(),
            ctx.org().to_string().into(),
        ];
        let project = task.project_id;
        let rows = self
            .fetch_all_direct_or(
                &mut conn,
                CREATE_ONE_POSTGRES,
                values,
                Planned::Cached,
                |e| {
                    if is_foreign_key_violation(&e) {
                        RepoError::reference("project_id", "project", project)
                    } else {
                        db_err(e)
                    }
                },
            )
            .await?;
        drop(conn);
        let stored = rows
            .first()
            .ok_or_else(|| corrupt("task", format!("{id} was not returned")))?;
        let stored = tasks::Model::from_query_result(stored, "").map_err(db_err)?;
        self.wakeups.wake(org);
        Ok(Ok(Enqueued {
            task: to_task(stored)?,
            created: true,
        }))
    }
}
