//! Plain creates written together (see `work::together`): the creates that arrive while a
//! statement writes others go in the next one. Every caller is answered after its statement
//! ends: with its task as stored once the statement committed, or with its own error. A
//! statement refused by a constraint wrote nothing; its creates are then written one by one, so
//! that one task naming a project of another organization fails alone.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{FromQueryResult, Value};
use serde_json::json;
use uuid::Uuid;

use super::create_one::PlainCreate;
use super::entity::tasks;
use super::task_records::{TaskRecord, insert_tasks_with_history, json_parameter};
use super::together::{Failed, Joined, Together, Waiting};
use super::wakeups::{CHANNEL, Notice};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::lean_pool::Lent;
use crate::observability::entity::audit_logs;

/// The tasks of `$1` with their creation events (each record's own actor), their audit rows
/// (`$2`, a JSON array), and a `NOTIFY` on channel `$3` with each payload of `$4` (a JSON
/// array, empty when none is due).
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
    SELECT pg_notify($3, payload) FROM jsonb_array_elements_text($4::jsonb) AS n(payload)
)
SELECT inserted.* FROM inserted, (SELECT count(*) FROM notified) AS n"
);

impl Joined for PlainCreate {
    type Answer = tasks::Model;
    const WRITERS: usize = 4;
    const MOST: usize = 200;
    const WHAT: &'static str = "plain create";

    fn queue(store: &SeaStore) -> &Together<Self> {
        &store.joins.plain_creates
    }

    async fn run(store: &SeaStore, batch: Vec<Waiting<Self>>) {
        store.write_batch(batch).await;
    }
}

impl SeaStore {
    async fn write_batch(&self, batch: Vec<Waiting<PlainCreate>>) {
        let mut conn = match self.shared_connection().await {
            Ok(conn) => conn,
            Err(failed) => return failed.answer_all(batch),
        };
        if let [_] = batch.as_slice() {
            return self.write_one_by_one(&mut conn, batch).await;
        }
        let values = match self.values(&batch) {
            Ok(values) => values,
            Err(failed) => return failed.answer_all(batch),
        };
        let rows = match self
            .fetch_all_shared(&mut conn, CREATE_MANY_POSTGRES, values)
            .await
        {
            Ok(rows) => rows,
            // Refused by the database for a row of it (a constraint): nothing was written.
            Err(Failed::Database(refused)) if refused.sql_err().is_some() => {
                return self.write_one_by_one(&mut conn, batch).await;
            }
            // The connection or the database failed: whether it committed is not known, so
            // nothing is written again; each caller learns it as the statement ended.
            Err(failed) => return failed.answer_all(batch),
        };
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
        for waiting in batch {
            let answered = match (stored.remove(&waiting.job.id), &decoding) {
                (Some(task), _) => {
                    self.created(&waiting.job);
                    Ok(task)
                }
                (None, Err(err)) => Err(db_err(err.clone())),
                (None, Ok(())) => Err(corrupt(
                    "task",
                    format!("{} was written but not returned", waiting.job.id),
                )),
            };
            waiting.answer(answered);
        }
    }
}

impl SeaStore {
    /// Writes each create of `batch` by a statement of its own, each caller answered with its
    /// own outcome.
    async fn write_one_by_one(&self, conn: &mut Lent, batch: Vec<Waiting<PlainCreate>>) {
        for waiting in batch {
            let written = self.write_one_plain_create(conn, &waiting.job).await;
            if written.is_ok() {
                self.created(&waiting.job);
            }
            waiting.answer(written);
        }
    }
}

impl SeaStore {
    /// The parameters of [`CREATE_MANY_POSTGRES`] for `batch`.
    fn values(&self, batch: &[Waiting<PlainCreate>]) -> Result<Vec<Value>, Failed> {
        let records: Vec<TaskRecord<'_>> =
            batch.iter().map(|waiting| waiting.job.record()).collect();
        let audits: Vec<&audit_logs::Model> =
            batch.iter().map(|waiting| &waiting.job.audit).collect();
        // One payload per organization, counting its creates announced now.
        let mut announced: BTreeMap<Uuid, usize> = BTreeMap::new();
        for waiting in batch {
            if let Notice::Now(tasks) = waiting.job.notice {
                *announced.entry(waiting.job.org).or_default() += tasks;
            }
        }
        let payloads: Vec<String> = announced
            .into_iter()
            .map(|(org, tasks)| self.wakeups.payload(org, tasks))
            .collect();
        Ok(vec![
            json_parameter(&records).map_err(Failed::Before)?,
            json_parameter(&audits).map_err(Failed::Before)?,
            CHANNEL.to_owned().into(),
            json!(payloads).into(),
        ])
    }
}
