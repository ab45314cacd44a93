//! Plain creates written together: while a statement is writing some, the creates that arrive
//! wait and go in the next one, so that under load each statement, its commit and its round
//! trip serve many creates (the write buffer of Hatchet, without its wait: a create that finds
//! no statement running is written at once).
//!
//! At most [`WRITERS`] statements run at a time, each taking up to [`MOST`] waiting creates.
//! They run on tasks of their own, so that a caller that goes away (a client that hangs up)
//! cannot cut short a statement that carries other callers' creates. Every caller is answered
//! after its statement ends: with its task as stored once the statement committed, or with its
//! own error. A statement refused by a constraint wrote nothing; its creates are then written
//! one by one, so that one task naming a project of another organization fails alone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use orchestore_repo::{RepoError, RepoResult};
use sea_orm::sqlx::{Postgres, pool::PoolConnection};
use sea_orm::{DbErr, FromQueryResult, Value};
use serde_json::json;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::create_one::PlainCreate;
use super::enqueue::insert_tasks_with_history;
use super::entity::tasks;
use super::wakeups::CHANNEL;
use crate::SeaStore;
use crate::direct::Planned;
use crate::error::{corrupt, db_err, sqlx_acquire_err};
use crate::observability::entity::audit_logs;

/// Statements writing plain creates at once: a few, so that creates still find pooled
/// connections for everything else, and enough that one slow commit does not hold all.
const WRITERS: usize = 4;
/// Creates one statement takes at most.
const MOST: usize = 200;

/// The tasks of `$1` with their creation events (each record's own actor), their audit rows
/// (`$2`, a JSON array), and a `NOTIFY` on channel `$3` for each organization of `$4` (a JSON
/// array of ids, empty when none is due).
const CREATE_MANY_POSTGRES: &str = concat!(
    insert_tasks_with_history!("actor"),
    ", audit AS (
    INSERT INTO audit_logs (organization_id, id, actor, action, entity, entity_id, changes,
        request_id, created_at, client_addr, credential)
    SELECT organization_id, id, actor, action, entity, entity_id, changes, request_id,
        created_at, client_addr, credential
    FROM jsonb_to_recordset($2::jsonb) AS a(organization_id uuid, id uuid, actor text,
        action text, entity text, entity_id text, changes jsonb, request_id text,
        created_at timestamptz, client_addr text, credential text)
), notified AS (
    SELECT pg_notify($3, org) FROM jsonb_array_elements_text($4::jsonb) AS n(org)
)
SELECT inserted.* FROM inserted, (SELECT count(*) FROM notified) AS n"
);

/// A create waiting for its statement, and where its answer goes.
struct Waiting {
    create: PlainCreate,
    answer: oneshot::Sender<RepoResult<tasks::Model>>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Waiting>,
    /// Tasks writing statements now.
    writers: usize,
}

/// The plain creates waiting for a statement; shared by a store and its clones.
#[derive(Default)]
pub(crate) struct PlainCreates {
    queue: Mutex<Queue>,
}

impl std::fmt::Debug for PlainCreates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queue = self.lock();
        f.debug_struct("PlainCreates")
            .field("waiting", &queue.waiting.len())
            .field("writers", &queue.writers)
            .finish()
    }
}

impl PlainCreates {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A poisoned lock only means a panic elsewhere: the queue itself stays whole.
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A writer's place among the [`WRITERS`], given back when its task ends however it ends (a
/// panic included), so that the places never run out.
struct WriterPlace(Option<Arc<PlainCreates>>);

impl WriterPlace {
    /// Gives the place back under the lock of `queue`, held by the caller.
    fn give_back(mut self, queue: &mut Queue) {
        queue.writers = queue.writers.saturating_sub(1);
        self.0 = None;
    }
}

impl Drop for WriterPlace {
    fn drop(&mut self) {
        if let Some(creates) = self.0.take() {
            let abandoned = {
                let mut queue = creates.lock();
                queue.writers = queue.writers.saturating_sub(1);
                // The last writer ended early (a panic, its runtime shut down): what still
                // waits is answered with an error rather than left waiting for a writer.
                if queue.writers == 0 {
                    std::mem::take(&mut queue.waiting)
                } else {
                    Vec::new()
                }
            };
            drop(abandoned);
        }
    }
}

impl SeaStore {
    /// Writes `create` with whatever other creates are waiting, and answers once its statement
    /// has ended.
    pub(super) async fn write_plain_create(&self, create: PlainCreate) -> RepoResult<tasks::Model> {
        let (answer, answered) = oneshot::channel();
        let start_writer = {
            let mut queue = self.plain_creates.lock();
            queue.waiting.push(Waiting { create, answer });
            let start = queue.writers < WRITERS;
            if start {
                queue.writers += 1;
            }
            start
        };
        if start_writer {
            let place = WriterPlace(Some(Arc::clone(&self.plain_creates)));
            let store = self.clone();
            tokio::spawn(async move { store.write_waiting_creates(place).await });
        }
        answered.await.map_err(|_| {
            RepoError::internal("the statement writing a plain create ended without an answer")
        })?
    }

    /// Writes waiting creates, a statement at a time, until none waits.
    async fn write_waiting_creates(self, place: WriterPlace) {
        loop {
            let batch: Vec<Waiting> = {
                let mut queue = self.plain_creates.lock();
                if queue.waiting.is_empty() {
                    // Given back under the lock that found the queue empty: a create queued
                    // after this finds a place free and starts a writer.
                    place.give_back(&mut queue);
                    return;
                }
                let take = queue.waiting.len().min(MOST);
                queue.waiting.drain(..take).collect()
            };
            self.write_batch(batch).await;
        }
    }

    async fn write_batch(&self, batch: Vec<Waiting>) {
        let mut conn = match self.pool.get_postgres_connection_pool().acquire().await {
            Ok(conn) => conn,
            Err(err) => {
                let err = sqlx_acquire_err(err);
                for waiting in batch {
                    let _ = waiting.answer.send(Err(db_err(err.clone())));
                }
                return;
            }
        };
        if let [_] = batch.as_slice() {
            return self.write_one_by_one(&mut conn, batch).await;
        }
        let mut refusal: Option<DbErr> = None;
        let written = self
            .fetch_all_direct_or(
                &mut conn,
                CREATE_MANY_POSTGRES,
                values(&batch),
                Planned::Cached,
                |err| {
                    let mapped = db_err(err.clone());
                    refusal = Some(err);
                    mapped
                },
            )
            .await;
        match (written, refusal) {
            (Ok(rows), _) => {
                let mut stored: HashMap<Uuid, tasks::Model> = HashMap::with_capacity(rows.len());
                let mut decoding = Ok(());
                for row in &rows {
                    match tasks::Model::from_query_result(row, "") {
                        Ok(task) => {
                            stored.insert(task.id, task);
                        }
                        Err(err) => decoding = Err(err),
                    }
                }
                for Waiting { create, answer } in batch {
                    let answered = match (stored.remove(&create.id), &decoding) {
                        (Some(task), _) => Ok(task),
                        (None, Err(err)) => Err(db_err(err.clone())),
                        (None, Ok(())) => Err(corrupt(
                            "task",
                            format!("{} was written but not returned", create.id),
                        )),
                    };
                    let _ = answer.send(answered);
                }
            }
            // Refused by the database for a row of it (a constraint): nothing was written.
            (Err(_), Some(refused)) if refused.sql_err().is_some() => {
                self.write_one_by_one(&mut conn, batch).await;
            }
            // The connection or the database failed: whether it committed is not known, so
            // nothing is written again; each caller learns it as the statement ended.
            (Err(_), Some(failed)) => {
                for waiting in batch {
                    let _ = waiting.answer.send(Err(db_err(failed.clone())));
                }
            }
            (Err(err), None) => {
                let reason = err.to_string();
                for waiting in batch {
                    let _ = waiting
                        .answer
                        .send(Err(RepoError::internal(reason.clone())));
                }
            }
        }
    }
}

impl SeaStore {
    /// Writes each create of `batch` by a statement of its own, each caller answered with its
    /// own outcome.
    async fn write_one_by_one(&self, conn: &mut PoolConnection<Postgres>, batch: Vec<Waiting>) {
        for Waiting { create, answer } in batch {
            let _ = answer.send(self.write_one_plain_create(conn, &create).await);
        }
    }
}

/// The parameters of [`CREATE_MANY_POSTGRES`] for `batch`.
fn values(batch: &[Waiting]) -> Vec<Value> {
    let records: Vec<serde_json::Value> = batch
        .iter()
        .map(|waiting| waiting.create.record.clone())
        .collect();
    let audits: Vec<serde_json::Value> = batch
        .iter()
        .map(|waiting| audit_record(&waiting.create.audit))
        .collect();
    let mut notified: Vec<String> = batch
        .iter()
        .filter(|waiting| waiting.create.notify)
        .map(|waiting| waiting.create.org.to_string())
        .collect();
    notified.sort_unstable();
    notified.dedup();
    vec![
        serde_json::Value::Array(records).into(),
        serde_json::Value::Array(audits).into(),
        CHANNEL.to_owned().into(),
        json!(notified).into(),
    ]
}

fn audit_record(audit: &audit_logs::Model) -> serde_json::Value {
    json!({
        "organization_id": audit.organization_id,
        "id": audit.id,
        "actor": audit.actor,
        "action": audit.action,
        "entity": audit.entity,
        "entity_id": audit.entity_id,
        "changes": audit.changes,
        "request_id": audit.request_id,
        "created_at": audit.created_at,
        "client_addr": audit.client_addr,
        "credential": audit.credential,
    })
}
