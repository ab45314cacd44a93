//! Concurrency keys: how many tasks of one key may run at once, and what an enqueue does when a
//! key is full.
//!
//! The limit itself is kept where tasks become running, by a row trigger on `tasks` (migration
//! 000044): on PostgreSQL it locks the key's row and counts its running tasks in a fresh
//! statement, so concurrent claimers never admit more than the limit; SQLite's writers take
//! turns. The claims only leave out the tasks of keys that look full (a count from their
//! snapshot), so that such tasks do not fill a claim's batch; the trigger decides. This module
//! keeps the rest: the key rows an enqueue writes (the latest enqueue naming a key sets its limit
//! and strategy), the `cancel_newest` strategy, and why a claim of one task found its key full.

use std::collections::{BTreeMap, HashMap};

use orchestore_domain::{
    BatchTask, ConcurrencyKey, ConcurrencyLimit, ConcurrencyStrategy, DomainError, TaskConcurrency,
};
use orchestore_repo::{Ctx, RepoError, RepoResult};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, Iterable, PaginatorTrait, QueryFilter, QuerySelect, Set};
use uuid::Uuid;

use super::enqueue::rows_per_statement;
use super::entity::{task_concurrency_keys as keys, tasks};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::Mutation;

/// A task row's concurrency key with the limit and strategy it was enqueued with.
pub(crate) fn task_concurrency(row: &tasks::Model) -> RepoResult<Option<TaskConcurrency>> {
    let domain = |e: DomainError| corrupt("task", e);
    match (
        &row.concurrency_key,
        row.concurrency_limit,
        &row.concurrency_strategy,
    ) {
        (None, None, None) => Ok(None),
        (Some(key), Some(limit), Some(strategy)) => Ok(Some(TaskConcurrency {
            key: ConcurrencyKey::parse(key).map_err(domain)?,
            limit: ConcurrencyLimit::parse(i64::from(limit)).map_err(domain)?,
            strategy: strategy.parse().map_err(domain)?,
        })),
        _ => Err(corrupt(
            "task",
            "a concurrency key comes with its limit and strategy",
        )),
    }
}

/// Writes `concurrency` into a task row's columns.
pub(crate) fn set_task_concurrency(row: &mut tasks::Model, concurrency: Option<&TaskConcurrency>) {
    row.concurrency_key = concurrency.map(|c| c.key.as_str().to_owned());
    row.concurrency_limit = concurrency.map(|c| c.limit.get() as i32);
    row.concurrency_strategy = concurrency.map(|c| c.strategy.as_str().to_owned());
}

/// The reason a task is created cancelled under `cancel_newest`.
fn cancelled_newest(concurrency: &TaskConcurrency) -> String {
    format!(
        "cancelled at creation: concurrency key {} already has its limit of {} tasks queued or \
         running (cancel_newest)",
        concurrency.key,
        concurrency.limit.get()
    )
}

/// How a new task of a batch goes in under its concurrency key.
#[derive(Default)]
pub(super) struct Admission {
    /// Its key with the key's limit and strategy as this enqueue leaves them.
    pub(super) concurrency: Option<TaskConcurrency>,
    /// Why it is created cancelled, if it is.
    pub(super) refused: Option<String>,
}

impl SeaStore {
    /// Admits the new tasks of a batch (`new`, positions in `batch`; `ids`, every position's
    /// task id) to their concurrency keys, inside the enqueue's mutation. Each key named is
    /// written with the limit and strategy of the last task of the batch naming it (the latest
    /// enqueue wins), in key order, which on PostgreSQL also locks its row until the commit:
    /// concurrent enqueues of one key take turns, and a count made after the write sees the
    /// tasks of every enqueue that went before. Every new task of the key then carries those.
    ///
    /// Answers, for each of `new`, its admission; it is created cancelled if it is a task of a
    /// `cancel_newest` key that already has its limit of tasks queued or running (the batch's
    /// earlier tasks count), and a task that waits for a task of the batch cancelled so.
    pub(super) async fn admit_to_keys(
        &self,
        m: &Mutation<'_>,
        batch: &[BatchTask],
        new: &[usize],
        ids: &[Uuid],
    ) -> RepoResult<Vec<Admission>> {
        let mut latest: BTreeMap<String, TaskConcurrency> = BTreeMap::new();
        for &i in new {
            if let Some(concurrency) = &batch[i].task.concurrency {
                latest.insert(concurrency.key.as_str().to_owned(), concurrency.clone());
            }
        }
        let mut admissions: Vec<Admission> = new.iter().map(|_| Admission::default()).collect();
        if latest.is_empty() {
            return Ok(admissions);
        }
        let org = m.ctx().org().as_uuid();
        let rows: Vec<keys::ActiveModel> = latest
            .values()
            .map(|c| keys::ActiveModel {
                organization_id: Set(org),
                key: Set(c.key.as_str().to_owned()),
                max_running: Set(c.limit.get() as i32),
                strategy: Set(c.strategy.as_str().to_owned()),
                created_at: Set(m.at()),
                updated_at: Set(m.at()),
            })
            .collect();
        let per_statement = rows_per_statement(self.is_postgres(), keys::Column::iter().count());
        for chunk in rows.chunks(per_statement) {
            keys::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([keys::Column::OrganizationId, keys::Column::Key])
                        .update_columns([
                            keys::Column::MaxRunning,
                            keys::Column::Strategy,
                            keys::Column::UpdatedAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(m.txn())
                .await
                .map_err(db_err)?;
        }
        for (admission, &i) in admissions.iter_mut().zip(new) {
            admission.concurrency = batch[i]
                .task
                .concurrency
                .as_ref()
                .and_then(|c| latest.get(c.key.as_str()))
                .cloned();
        }

        // How many tasks each `cancel_newest` key has queued or running, read after its row.
        let cancelling: Vec<String> = latest
            .values()
            .filter(|c| c.strategy == ConcurrencyStrategy::CancelNewest)
            .map(|c| c.key.as_str().to_owned())
            .collect();
        let mut taken: HashMap<String, i64> = HashMap::new();
        for chunk in cancelling.chunks(super::enqueue::LOOKUP) {
            let counts: Vec<(Option<String>, i64)> = tasks::Entity::find()
                .select_only()
                .column(tasks::Column::ConcurrencyKey)
                .column_as(tasks::Column::Id.count(), "taken")
                .filter(tasks::Column::OrganizationId.eq(org))
                .filter(tasks::Column::ConcurrencyKey.is_in(chunk.iter().map(String::as_str)))
                .filter(tasks::Column::Status.is_in(["queued", "running"]))
                .group_by(tasks::Column::ConcurrencyKey)
                .into_tuple()
                .all(m.txn())
                .await
                .map_err(db_err)?;
            taken.extend(counts.into_iter().filter_map(|(k, n)| k.map(|k| (k, n))));
        }

        let mut cancelled: HashMap<usize, Uuid> = HashMap::new();
        for (admission, &i) in admissions.iter_mut().zip(new) {
            if let Some(&j) = batch[i]
                .depends_on_batch
                .iter()
                .find(|j| cancelled.contains_key(j))
            {
                admission.refused = Some(format!(
                    "cancelled at creation: it waits for task {}, cancelled at creation",
                    ids[j]
                ));
                cancelled.insert(i, ids[i]);
                continue;
            }
            let Some(concurrency) = &admission.concurrency else {
                continue;
            };
            if concurrency.strategy != ConcurrencyStrategy::CancelNewest {
                continue;
            }
            let count = taken
                .entry(concurrency.key.as_str().to_owned())
                .or_default();
            if *count >= i64::from(concurrency.limit.get()) {
                admission.refused = Some(cancelled_newest(concurrency));
                cancelled.insert(i, ids[i]);
            } else {
                *count += 1;
            }
        }
        Ok(admissions)
    }

    /// Why a claim of the queued task `row` took nothing because of its concurrency key, if
    /// that is why: the key has its limit of tasks running.
    pub(super) async fn key_is_full(&self, ctx: &Ctx, row: &tasks::Model) -> Option<RepoError> {
        let key = row.concurrency_key.as_deref()?;
        let db = self.db().await;
        let limit: Option<i32> = keys::Entity::find()
            .select_only()
            .column(keys::Column::MaxRunning)
            .filter(keys::Column::OrganizationId.eq(ctx.org().as_uuid()))
            .filter(keys::Column::Key.eq(key))
            .into_tuple()
            .one(&db)
            .await
            .ok()
            .flatten();
        let running = tasks::Entity::find()
            .filter(tasks::Column::OrganizationId.eq(ctx.org().as_uuid()))
            .filter(tasks::Column::ConcurrencyKey.eq(key))
            .filter(tasks::Column::Status.eq("running"))
            .count(&db)
            .await
            .ok()?;
        let limit = u64::try_from(limit?).ok()?;
        (running >= limit).then(|| {
            RepoError::conflict(
                "task",
                format!(
                    "concurrency key {key} has its limit of {limit} tasks running: the task \
                     waits until one ends"
                ),
            )
        })
    }
}
