//! Plain tasks created on PostgreSQL in one statement each, or several at once: a task's row,
//! its first history entry, its audit row and the `NOTIFY` that wakes waiting claims go in one
//! autocommitted round trip instead of a transaction of six (begin, the project's check, the
//! insert, the notify, the audit row, commit).
//!
//! A task is plain when nothing about it needs another row read first: no idempotency key,
//! dependency, parent, assigned agent, rate limit, concurrency or fairness key, and a payload
//! kept inline. Any other task, and every task on SQLite or inside a store transaction, takes
//! the general path (`enqueue`), which answers the same. The project is checked by the
//! composite foreign key `(organization_id, project_id)`: its violation is the same reference
//! error the general path's check answers, and a statement refused writes nothing.
//!
//! Creates that arrive while others are being written wait for the next statement and go in it
//! together (`plain_batch`): each caller is still answered only once its rows are committed.

use orchestore_domain::{Enqueued, NewTask, ProjectId, TaskId, TaskStatus};
use orchestore_repo::{Ctx, RepoError, RepoResult};
use sea_orm::{FromQueryResult, Value};
use uuid::Uuid;

use super::enqueue::{CREATED, new_row};
use super::entity::tasks;
use super::task_records::{TaskRecord, insert_tasks_with_history, json_parameter};
use super::tasks::to_task;
use super::wakeups::{CHANNEL, Notice};
use crate::SeaStore;
use crate::direct::Planned;
use crate::error::{corrupt, db_err, is_foreign_key_violation};
use crate::lean_pool::Lent;
use crate::mutation::{Verb, audit_row, snapshot};
use crate::observability::entity::audit_logs;

/// The task of `$1` with its creation event (`$2` the actor), its audit row (`$3`–`$12`), and
/// a `NOTIFY` on channel `$13` with payload `$14` unless `$13` is `NULL`.
const CREATE_ONE_POSTGRES: &str = concat!(
    insert_tasks_with_history!("$2"),
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

/// A plain task ready to be written: its row, its creation event's actor, its audit row, and
/// how other processes' claims learn of it.
pub(crate) struct PlainCreate {
    pub(super) id: Uuid,
    pub(super) org: Uuid,
    pub(super) project: ProjectId,
    pub(super) actor: String,
    pub(super) row: tasks::Model,
    pub(super) audit: audit_logs::Model,
    pub(super) notice: Notice,
}

impl PlainCreate {
    /// The task as a record of the statement, with its creation event and actor.
    pub(super) fn record(&self) -> TaskRecord<'_> {
        TaskRecord::new(&self.row, CREATED, Some(&self.actor))
    }

    /// The refusal of a statement that named this task's project, when the project is not the
    /// organization's.
    pub(super) fn refused(&self, err: sea_orm::DbErr) -> RepoError {
        if is_foreign_key_violation(&err) {
            RepoError::reference("project_id", "project", self.project)
        } else {
            db_err(err)
        }
    }
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
        let at = self.now();
        let id = TaskId::new();
        let mut row = new_row(ctx, at, &task, id.as_uuid(), TaskStatus::Queued);
        if !self.set_aside(&mut row).is_empty() {
            return Ok(Err(task));
        }
        let audit =
            audit_row::<tasks::Entity>(ctx, at, Verb::Create, id, snapshot(&to_task(row.clone())?));
        let org = ctx.org().as_uuid();
        let create = PlainCreate {
            id: id.as_uuid(),
            org,
            project: task.project_id,
            actor: ctx.actor().to_string(),
            row,
            audit,
            notice: self.wakeups.notice(org, 1),
        };
        let stored = self.together(create).await?;
        Ok(Ok(Enqueued {
            task: to_task(stored)?,
            created: true,
        }))
    }

    /// Wakes the claims waiting for `create`'s task once it is written: by the writer, so that
    /// a caller that went away meanwhile does not leave them to their recheck.
    pub(super) fn created(&self, create: &PlainCreate) {
        if create.notice == Notice::Later {
            self.wakeups.announce_later(&self.pool, create.org, 1);
        }
        self.wakeups.wake(create.org, 1);
    }

    /// Writes `create` alone, by [`CREATE_ONE_POSTGRES`], on `conn`.
    pub(super) async fn write_one_plain_create(
        &self,
        conn: &mut Lent,
        create: &PlainCreate,
    ) -> RepoResult<tasks::Model> {
        let audit = &create.audit;
        let record = create.record();
        let payload = match create.notice {
            Notice::Now(tasks) => Some(self.wakeups.payload(create.org, tasks)),
            Notice::Later => None,
        };
        let values: Vec<Value> = vec![
            json_parameter(&[record]).map_err(RepoError::internal)?,
            create.actor.clone().into(),
            audit.organization_id.into(),
            audit.id.into(),
            audit.action.clone().into(),
            audit.entity.clone().into(),
            audit.entity_id.clone().into(),
            audit.changes.clone().into(),
            audit.request_id.clone().into(),
            audit.created_at.into(),
            audit.client_addr.clone().into(),
            audit.credential.clone().into(),
            payload.is_some().then(|| CHANNEL.to_owned()).into(),
            payload.into(),
        ];
        let rows = self
            .fetch_all_direct_or(conn, CREATE_ONE_POSTGRES, values, Planned::Cached, |e| {
                create.refused(e)
            })
            .await?;
        let stored = rows
            .first()
            .ok_or_else(|| corrupt("task", format!("{} was not returned", create.id)))?;
        tasks::Model::from_query_result(stored, "").map_err(db_err)
    }
}
