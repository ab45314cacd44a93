//! Large payloads out of the hot row: a task's payload or result larger than the store's inline
//! limit (`SeaStore::with_inline_payload_limit`) is a row of `task_bodies`, written in the same
//! transaction as its task, and the task's row keeps JSON `null` in its place with its size in
//! `payload_bytes` / `result_bytes`. Claims, lists and the queue's statements then read narrow
//! rows whatever the payloads weigh.
//!
//! Reading a task by its id and claiming it answer the bodies (one more query, only when a row
//! has one); enqueue and complete answer the bodies they were given. Other answers (lists,
//! cancel, fail, heartbeat, updates of other fields) leave them out and say their size.

use std::collections::HashMap;
use std::io;

use orchestore_repo::RepoResult;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryResult,
    QuerySelect, Set,
};
use serde_json::Value as Json;
use uuid::Uuid;

use super::entity::{task_bodies, tasks};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::Mutation;

/// The default inline limit: 64 KiB of JSON.
pub const DEFAULT_INLINE_PAYLOAD_LIMIT: usize = 64 * 1024;

/// The most ids in the `IN` list of one read of bodies.
const LOOKUP: usize = 1_000;

/// The most bytes of bodies one `INSERT` carries, so that a batch of large payloads is written
/// in statements of bounded size.
const BYTES_PER_STATEMENT: usize = 8 * 1024 * 1024;

/// What a body of `task_bodies` is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum BodyKind {
    Payload,
    Result,
}

impl BodyKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Payload => "payload",
            Self::Result => "result",
        }
    }
}

/// A body set aside from its task's row, to be written to `task_bodies`.
pub(crate) struct Body {
    pub(crate) task: Uuid,
    pub(crate) kind: BodyKind,
    pub(crate) body: Json,
    pub(crate) bytes: i64,
}

/// Counts what is written to it.
struct Counter(usize);

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The size of `value` serialized, in bytes.
pub(crate) fn json_bytes(value: &Json) -> usize {
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

fn bytes_column(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl SeaStore {
    /// Whether a payload or result of `bytes` is stored apart from its row.
    pub(crate) fn stored_apart(&self, bytes: usize) -> bool {
        bytes > self.inline_payload_limit
    }

    /// Takes the payload and result of the row of a task about to be written out of it when
    /// they are larger than the inline limit, leaving the row's marker (JSON `null` and the
    /// size), and answers them to be written with [`write_bodies`](Self::write_bodies).
    pub(crate) fn set_aside(&self, row: &mut tasks::Model) -> Vec<Body> {
        let mut bodies = Vec::new();
        let payload_bytes = json_bytes(&row.payload);
        row.payload_bytes = None;
        if self.stored_apart(payload_bytes) {
            row.payload_bytes = Some(bytes_column(payload_bytes));
            bodies.push(Body {
                task: row.id,
                kind: BodyKind::Payload,
                body: std::mem::take(&mut row.payload),
                bytes: bytes_column(payload_bytes),
            });
        }
        row.result_bytes = None;
        if let Some(result) = &row.result {
            let result_bytes = json_bytes(result);
            if self.stored_apart(result_bytes) {
                row.result_bytes = Some(bytes_column(result_bytes));
                bodies.push(Body {
                    task: row.id,
                    kind: BodyKind::Result,
                    body: row.result.take().unwrap_or_default(),
                    bytes: bytes_column(result_bytes),
                });
            }
        }
        bodies
    }

    /// Writes `bodies` of the organization's tasks, replacing those the tasks had of the same
    /// kind.
    pub(crate) async fn write_bodies(
        &self,
        conn: &impl ConnectionTrait,
        org: Uuid,
        bodies: Vec<Body>,
    ) -> RepoResult<()> {
        let mut statement: Vec<task_bodies::ActiveModel> = Vec::new();
        let mut statement_bytes = 0;
        let mut bodies = bodies.into_iter().peekable();
        while let Some(body) = bodies.next() {
            statement_bytes += usize::try_from(body.bytes).unwrap_or(usize::MAX);
            statement.push(task_bodies::ActiveModel {
                organization_id: Set(org),
                task_id: Set(body.task),
                kind: Set(body.kind.as_str().to_owned()),
                body: Set(body.body),
                bytes: Set(body.bytes),
            });
            if statement_bytes >= BYTES_PER_STATEMENT || bodies.peek().is_none() {
                task_bodies::Entity::insert_many(std::mem::take(&mut statement))
                    .on_conflict(
                        OnConflict::columns([
                            task_bodies::Column::OrganizationId,
                            task_bodies::Column::TaskId,
                            task_bodies::Column::Kind,
                        ])
                        .update_columns([task_bodies::Column::Body, task_bodies::Column::Bytes])
                        .to_owned(),
                    )
                    .exec_without_returning(conn)
                    .await
                    .map_err(db_err)?;
                statement_bytes = 0;
            }
        }
        Ok(())
    }

    /// Writes `value`, the new payload or result of task `task` (`None`: no result), where its
    /// size says, and answers what the task's row keeps: the value and no size when it fits in
    /// the row (a body the task had of this kind is deleted), else no value and its size (the
    /// value is then in `task_bodies`).
    pub(crate) async fn place_body(
        &self,
        m: &Mutation<'_>,
        task: Uuid,
        kind: BodyKind,
        value: Option<Json>,
        had_body: bool,
    ) -> RepoResult<(Option<Json>, Option<i64>)> {
        let org = m.ctx().org().as_uuid();
        let (value, bytes) = match value {
            Some(value) if self.stored_apart(json_bytes(&value)) => {
                let bytes = bytes_column(json_bytes(&value));
                (value, bytes)
            }
            inline => {
                if had_body {
                    self.delete_body(m.txn(), org, task, kind).await?;
                }
                return Ok((inline, None));
            }
        };
        let body = Body {
            task,
            kind,
            body: value,
            bytes,
        };
        self.write_bodies(m.txn(), org, vec![body]).await?;
        Ok((None, Some(bytes)))
    }

    /// Deletes the body of `kind` of the organization's task `task`, if it has one.
    async fn delete_body(
        &self,
        conn: &impl ConnectionTrait,
        org: Uuid,
        task: Uuid,
        kind: BodyKind,
    ) -> RepoResult<()> {
        task_bodies::Entity::delete_many()
            .filter(task_bodies::Column::OrganizationId.eq(org))
            .filter(task_bodies::Column::TaskId.eq(task))
            .filter(task_bodies::Column::Kind.eq(kind.as_str()))
            .exec(conn)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Puts back into `rows` (tasks of the organization) the bodies stored apart from them, in
    /// one query per [`LOOKUP`] rows that have one; rows without one cost nothing.
    pub(crate) async fn with_bodies<'a>(
        &self,
        conn: &impl ConnectionTrait,
        org: Uuid,
        rows: impl IntoIterator<Item = &'a mut tasks::Model>,
    ) -> RepoResult<()> {
        let mut apart: Vec<&mut tasks::Model> = rows
            .into_iter()
            .filter(|row| row.payload_bytes.is_some() || row.result_bytes.is_some())
            .collect();
        for chunk in apart.chunks_mut(LOOKUP) {
            let ids: Vec<Uuid> = chunk.iter().map(|row| row.id).collect();
            let mut found: HashMap<(Uuid, String), Json> = task_bodies::Entity::find()
                .filter(task_bodies::Column::OrganizationId.eq(org))
                .filter(task_bodies::Column::TaskId.is_in(ids))
                .all(conn)
                .await
                .map_err(db_err)?
                .into_iter()
                .map(|body| ((body.task_id, body.kind), body.body))
                .collect();
            for row in chunk.iter_mut() {
                let id = row.id;
                let mut take = |kind: BodyKind| {
                    found
                        .remove(&(id, kind.as_str().to_owned()))
                        .ok_or_else(|| {
                            corrupt("task", format!("the {} of {id} is missing", kind.as_str()))
                        })
                };
                if row.payload_bytes.is_some() {
                    row.payload = take(BodyKind::Payload)?;
                    row.payload_bytes = None;
                }
                if row.result_bytes.is_some() {
                    row.result = Some(take(BodyKind::Result)?);
                    row.result_bytes = None;
                }
            }
        }
        Ok(())
    }

    /// The results stored apart of the organization's tasks `ids`, by task.
    pub(crate) async fn results_apart(
        &self,
        conn: &impl ConnectionTrait,
        org: Uuid,
        ids: &[Uuid],
    ) -> RepoResult<HashMap<Uuid, Json>> {
        let mut found = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(LOOKUP) {
            let rows: Vec<(Uuid, Json)> = task_bodies::Entity::find()
                .select_only()
                .columns([task_bodies::Column::TaskId, task_bodies::Column::Body])
                .filter(task_bodies::Column::OrganizationId.eq(org))
                .filter(task_bodies::Column::Kind.eq(BodyKind::Result.as_str()))
                .filter(task_bodies::Column::TaskId.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(conn)
                .await
                .map_err(db_err)?;
            found.extend(rows);
        }
        Ok(found)
    }

    /// The task rows of a statement's answer, with their bodies (see
    /// [`with_bodies`](Self::with_bodies)).
    pub(crate) async fn rows_with_bodies(
        &self,
        conn: &impl ConnectionTrait,
        org: Uuid,
        rows: &[QueryResult],
    ) -> RepoResult<Vec<tasks::Model>> {
        let mut models = rows
            .iter()
            .map(|row| tasks::Model::from_query_result(row, "").map_err(db_err))
            .collect::<RepoResult<Vec<_>>>()?;
        self.with_bodies(conn, org, &mut models).await?;
        Ok(models)
    }
}
