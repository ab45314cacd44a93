//! The one way a repository call writes: [`SeaStore::mutate`] opens the write transaction,
//! runs the change, which records its typed audit action through [`Mutation::audit`], and
//! commits — so the audit row lands with the change or not at all.

use std::collections::BTreeMap;
use std::fmt::{self, Display};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use orchestore_repo::{Ctx, RepoResult};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    IntoActiveModel,
};
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::SeaStore;
use crate::conn::{Conn, Held};
use crate::error::db_err;
use crate::observability::entity::audit_logs;
use crate::observability::redact::redact;
use crate::work::wakeups::{Notice, Wakeups, notify};

/// An entity whose changes are audited, under this name (`task`, `project`, …).
pub(crate) trait Audited: EntityTrait {
    const NAME: &'static str;
}

/// What a mutation did to its entity; the audit action is `<entity>.<verb>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Create,
    Update,
    Delete,
    /// A status change: `<entity>.status.<to>`.
    Status(&'static str),
    /// Any other named operation, e.g. `rotate` or `revoke`.
    Named(&'static str),
}

impl Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Create => f.write_str("create"),
            Self::Update => f.write_str("update"),
            Self::Delete => f.write_str("delete"),
            Self::Status(to) => write!(f, "status.{to}"),
            Self::Named(name) => f.write_str(name),
        }
    }
}

/// A write in progress: its transaction, who acts, and the one timestamp the change and its
/// audit rows share.
pub(crate) struct Mutation<'a> {
    // Declared before `_held` so that it ends before the connection's turn is given back.
    txn: DatabaseTransaction,
    ctx: &'a Ctx,
    at: DateTime<Utc>,
    /// How many tasks the change made claimable: as many waiting claims are woken at commit.
    queued: AtomicUsize,
    /// Whether the change can make a session's standing fall: the standing epoch rises at
    /// commit.
    standing_fell: AtomicBool,
    _held: Held<'a>,
}

impl Mutation<'_> {
    pub(crate) fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    pub(crate) fn ctx(&self) -> &Ctx {
        self.ctx
    }

    pub(crate) fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// Notes that the change queued `tasks` tasks, so that claims waiting for work wake at
    /// commit.
    pub(crate) fn queued_work(&self, tasks: usize) {
        self.queued.fetch_add(tasks, Ordering::Relaxed);
    }

    /// Notes that the change revoked a session or took something from a user's access tokens,
    /// so that cached standings are dropped at commit.
    pub(crate) fn standing_fell(&self) {
        self.standing_fell.store(true, Ordering::Relaxed);
    }

    /// Appends the audit row of `verb` on entity `E` row `id`, in this transaction: who acted,
    /// with which credential, from where, and `changes` with any secret in them redacted. The
    /// row is unsealed; the sealer chains it later (see `observability::audit_logs`).
    pub(crate) async fn audit<E: Audited>(
        &self,
        verb: Verb,
        id: impl Display,
        changes: Value,
    ) -> RepoResult<()> {
        let row = audit_row::<E>(self.ctx, self.at, verb, id, changes);
        audit_logs::Entity::insert(row.into_active_model().reset_all())
            .exec_without_returning(&self.txn)
            .await
            .map(|_| ())
            .map_err(db_err)
    }
}

/// The audit row of `verb` on entity `E` row `id` at `at`, unsealed, `changes` redacted: what
/// [`Mutation::audit`] appends, and what a one-statement write appends in its own statement.
pub(crate) fn audit_row<E: Audited>(
    ctx: &Ctx,
    at: DateTime<Utc>,
    verb: Verb,
    id: impl Display,
    mut changes: Value,
) -> audit_logs::Model {
    let entity = E::NAME;
    redact(&mut changes);
    audit_logs::Model {
        id: Uuid::now_v7(),
        organization_id: ctx.org().as_uuid(),
        actor: ctx.actor().to_string(),
        action: format!("{entity}.{verb}"),
        entity: entity.to_owned(),
        entity_id: id.to_string(),
        changes,
        request_id: ctx.request_id().map(str::to_owned),
        created_at: at,
        client_addr: ctx.client_addr().map(|addr| addr.to_string()),
        credential: ctx.credential().map(|credential| credential.to_string()),
        seq: None,
        hash: None,
    }
}

/// What committed writes set off in this process: the claims waiting for the tasks they queued
/// are woken, and cached session standings are dropped when one may have fallen. Inside a store
/// transaction it waits for the outermost commit (`conn::OpenTransaction::defer`): sooner, a
/// woken claim would find nothing and wait for its recheck, and a standing read in between would
/// still be the old one, and be trusted for the check interval.
#[derive(Debug, Default)]
pub(crate) struct Aftermath {
    /// Tasks queued, by organization.
    queued: BTreeMap<Uuid, usize>,
    standing_fell: bool,
}

impl Aftermath {
    fn add(&mut self, org: Uuid, queued: usize, standing_fell: bool) {
        if queued > 0 {
            *self.queued.entry(org).or_default() += queued;
        }
        self.standing_fell |= standing_fell;
    }

    /// Takes on what `other` sets off.
    pub(crate) fn absorb(&mut self, other: Self) {
        for (org, queued) in other.queued {
            self.add(org, queued, false);
        }
        self.standing_fell |= other.standing_fell;
    }
}

/// Sets its [`Aftermath`] off when dropped: after the commit it guards, whatever the outcome,
/// and also when the caller goes away while the commit is in flight. Whether a commit that
/// failed or was cut short went through is unknown, and every effect is harmless if it did
/// not: a woken claim finds nothing and waits again, a dropped standing is read again. On
/// PostgreSQL it also announces the queued tasks to other processes: by a `NOTIFY` in the
/// transaction ([`AfterCommit::notify_in`]), delivered with the commit and only if it commits,
/// or, within the gap of the organization's last one, by the `NOTIFY` at the gap's end.
pub(crate) struct AfterCommit {
    wakeups: Arc<Wakeups>,
    standing_epoch: Arc<AtomicU64>,
    aftermath: Aftermath,
    /// The pool the gap's `NOTIFY` is sent on; none on SQLite.
    pool: Option<DatabaseConnection>,
    /// Tasks of an organization for the `NOTIFY` at the end of its gap.
    later: Vec<(Uuid, usize)>,
}

impl AfterCommit {
    /// A guard of `store` with nothing to set off yet.
    pub(crate) fn new(store: &SeaStore) -> Self {
        Self {
            wakeups: Arc::clone(&store.wakeups),
            standing_epoch: Arc::clone(&store.standing_epoch),
            aftermath: Aftermath::default(),
            pool: store.is_postgres().then(|| store.pool.clone()),
            later: Vec::new(),
        }
    }

    /// This guard, to set `aftermath` off.
    pub(crate) fn guarding(mut self, aftermath: Aftermath) -> Self {
        self.aftermath.absorb(aftermath);
        self
    }

    /// Announces the queued tasks in `txn`, about to commit, one `NOTIFY` per organization
    /// (PostgreSQL folds identical payloads of one transaction into one), or counts them for
    /// the end of the gap. When it fails the transaction is lost, and nothing is set off.
    pub(crate) async fn notify_in(&mut self, txn: &DatabaseTransaction) -> Result<(), DbErr> {
        if self.pool.is_none() {
            return Ok(());
        }
        for (&org, &queued) in &self.aftermath.queued {
            match self.wakeups.notice(org, queued) {
                Notice::Now(tasks) => {
                    let notify = notify(self.wakeups.payload(org, tasks));
                    if let Err(err) = txn.execute_raw(notify).await {
                        self.aftermath = Aftermath::default();
                        self.later.clear();
                        return Err(err);
                    }
                }
                Notice::Later => self.later.push((org, queued)),
            }
        }
        Ok(())
    }
}

impl Drop for AfterCommit {
    fn drop(&mut self) {
        let Aftermath {
            queued,
            standing_fell,
        } = std::mem::take(&mut self.aftermath);
        if standing_fell {
            self.standing_epoch.fetch_add(1, Ordering::SeqCst);
        }
        for (org, tasks) in queued {
            self.wakeups.wake(org, tasks);
        }
        // The gap's sender is a task of the runtime, which a caller dropped at shutdown may
        // outlive.
        if let Some(pool) = &self.pool
            && tokio::runtime::Handle::try_current().is_ok()
        {
            for (org, tasks) in self.later.drain(..) {
                self.wakeups.announce_later(pool, org, tasks);
            }
        }
    }
}

impl SeaStore {
    /// Runs `change` in a write transaction and commits when it returns `Ok`; an `Err`
    /// rolls everything back, audit rows included.
    pub(crate) async fn mutate<T>(
        &self,
        ctx: &Ctx,
        change: impl for<'m> AsyncFnOnce(&'m Mutation<'_>) -> RepoResult<T>,
    ) -> RepoResult<T> {
        let held = self.db().await;
        let txn = held.begin_write().await.map_err(db_err)?;
        let mutation = Mutation {
            txn,
            ctx,
            at: self.now(),
            queued: AtomicUsize::new(0),
            standing_fell: AtomicBool::new(false),
            _held: held,
        };
        match change(&mutation).await {
            Ok(value) => {
                let queued = mutation.queued.load(Ordering::Relaxed);
                let org = ctx.org().as_uuid();
                let mut aftermath = Aftermath::default();
                aftermath.add(org, queued, mutation.standing_fell.load(Ordering::Relaxed));
                if let Conn::Transaction(open) = &self.conn {
                    // A savepoint: what it sets off waits for the transaction's commit, kept
                    // there before the release, whose failure leaves the outcome to it.
                    open.defer(aftermath);
                    mutation.txn.commit().await.map_err(db_err)?;
                    return Ok(value);
                }
                let mut after = AfterCommit::new(self).guarding(aftermath);
                if let Err(err) = after.notify_in(&mutation.txn).await {
                    if let Err(rollback) = mutation.txn.rollback().await {
                        tracing::warn!(error = %rollback, "rolling back a mutation whose NOTIFY failed");
                    }
                    return Err(db_err(err));
                }
                mutation.txn.commit().await.map_err(db_err)?;
                drop(after);
                Ok(value)
            }
            Err(err) => {
                // Rolled back now rather than on drop, which only queues the rollback.
                if let Err(rollback) = mutation.txn.rollback().await {
                    tracing::warn!(error = %rollback, "rolling back a refused mutation");
                }
                Err(err)
            }
        }
    }
}

/// The fields that differ between two serializations of an entity, as
/// `{"field": {"from": old, "to": new}}`; `updated_at` and `revision` are left out, since
/// every write moves them.
pub(crate) fn diff(before: &impl Serialize, after: &impl Serialize) -> Value {
    let (Value::Object(before), Value::Object(after)) = (snapshot(before), snapshot(after)) else {
        return Value::Object(Map::new());
    };
    let changed: Map<String, Value> = after
        .into_iter()
        .filter(|(key, new)| {
            !matches!(key.as_str(), "updated_at" | "revision") && before.get(key) != Some(new)
        })
        .map(|(key, new)| {
            let old = before.get(&key).cloned().unwrap_or(Value::Null);
            (key, json!({ "from": old, "to": new }))
        })
        .collect();
    Value::Object(changed)
}

/// A snapshot of an entity for a `create` or `delete` row.
pub(crate) fn snapshot(entity: &impl Serialize) -> Value {
    serde_json::to_value(entity).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use orchestore_domain::OrganizationId;
    use orchestore_repo::{AuthRepo, StoreTransaction};

    use super::*;
    use crate::{DbConfig, open_pool};

    /// A write through `store` that queues one task and makes a standing fall.
    async fn write(store: &SeaStore, ctx: &Ctx) {
        store
            .mutate(ctx, async |m| {
                m.queued_work(1);
                m.standing_fell();
                Ok(())
            })
            .await
            .expect("write");
    }

    async fn store() -> SeaStore {
        let pool = open_pool(&DbConfig::new("sqlite::memory:"))
            .await
            .expect("pool");
        SeaStore::from_connection(pool).expect("store")
    }

    #[tokio::test]
    async fn a_write_in_a_transaction_sets_off_its_aftermath_at_the_outermost_commit() {
        let store = store().await;
        let ctx = Ctx::system(OrganizationId::new());
        let org = ctx.org().as_uuid();
        let (first, second) = (store.wakeups.wait(org, None), store.wakeups.wait(org, None));

        // Only a rolled-back nested write: nothing is set off.
        let tx = store.begin_store().await.expect("begin");
        let nested = tx.begin_store().await.expect("nested");
        write(&nested, &ctx).await;
        Box::new(nested).rollback().await.expect("rollback");
        Box::new(tx).commit().await.expect("commit");
        assert_eq!(store.standing_epoch(), 0);

        let tx = store.begin_store().await.expect("begin");
        let nested = tx.begin_store().await.expect("nested");
        write(&nested, &ctx).await;
        Box::new(nested).commit().await.expect("release");
        write(&tx, &ctx).await;
        assert_eq!(store.standing_epoch(), 0, "not before the outermost commit");
        let woken = first.woken_within(Duration::ZERO).await;
        assert_eq!(woken, None, "not before the outermost commit");

        Box::new(tx).commit().await.expect("commit");
        assert_eq!(store.standing_epoch(), 1);
        let woken = second.woken_within(Duration::ZERO).await;
        assert_eq!(woken.map(|wake| wake.tasks), Some(2), "both writes' tasks");
    }

    #[tokio::test]
    async fn a_guard_dropped_before_its_commit_ended_sets_its_aftermath_off() {
        let store = store().await;
        let org = Uuid::now_v7();
        let claim = store.wakeups.wait(org, None);
        let mut aftermath = Aftermath::default();
        aftermath.add(org, 2, true);
        // What a caller gone during the commit leaves behind: the guard, dropped unfinished.
        drop(AfterCommit::new(&store).guarding(aftermath));
        assert_eq!(store.standing_epoch(), 1);
        let woken = claim.woken_within(Duration::ZERO).await;
        assert_eq!(woken.map(|wake| wake.tasks), Some(2));
    }
}
