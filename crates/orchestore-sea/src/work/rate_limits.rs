//! Rate limits: named token buckets, and how a claim takes tokens from them.
//!
//! A bucket's row holds its balance at `refilled_at`; whoever changes it locks the row, adds
//! what the time since earned ([`TokenBucket::refilled`], whole tokens, computed from the
//! locked row's values), and writes the new balance in the same transaction. A claim of tasks
//! that consume no bucket never reads a bucket: its statement stays the plain one, and only
//! learns from the partial index `idx_tasks_rate_limited_queued` whether a rate-limited task
//! waits. When one does, the claim becomes one write transaction (see `claim.rs`):
//!
//! 1. lock every bucket of the organization, in name order, and refill each to the claim's
//!    time;
//! 2. read the rate-limited candidates in claim order (on PostgreSQL `FOR NO KEY UPDATE SKIP
//!    LOCKED`), skipping in SQL those that one of their buckets could not serve even alone;
//! 3. walk them, setting aside each one's units while every one of its buckets still holds
//!    them, up to the claim's limit: the [`Reservation`];
//! 4. run the claim statement with those ids allowed beside the tasks that need no bucket, so
//!    that the claim takes the best of both in one claim order;
//! 5. take from the buckets the units of the tasks actually claimed, and write them back.
//!
//! Concurrent claimers of one organization with rate-limited work waiting take turns on its
//! bucket rows, so a balance is exact and never negative; on SQLite the immediate write
//! transaction already makes them take turns.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use orchestore_domain::{
    DomainError, NewRateLimit, OrganizationId, RateLimit, RateLimitId, RateLimitName,
    RateLimitPatch, RateLimitUses, RawRateLimitUse, RefillPeriod, Revision, TokenBucket,
    TokenCount,
};
use orchestore_repo::{
    Ctx, Cursor, Page, PageRequest, RateLimitRepo, RateLimitSort, RepoError, RepoResult,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement, Value,
};
use serde_json::json;
use uuid::Uuid;

use super::entity::rate_limits;
use crate::SeaStore;
use crate::agents::entity::agents;
use crate::error::{corrupt, db_err, is_unique_violation};
use crate::mutation::{Audited, Mutation, Verb, diff, snapshot};
use crate::revision::{Revised, delete_revised, expect_revision, to_revision, update_revised};
use crate::scoped::{Keyset, Lock, keyset_page, scoped};

/// How many rate-limited candidates a claim reads beyond its limit: room for tasks passed over
/// because the ones before them took their bucket's last tokens.
const LOOKAHEAD: u32 = 100;

/// Whether a rate-limited task waits in the organization (`$1`/`?1`) at `$2`/`?2`: read from
/// the partial index of queued rate-limited tasks.
const WAITING_POSTGRES: &str = "\
SELECT 1 AS waiting FROM tasks
WHERE organization_id = $1 AND status = 'queued' AND rate_limits <> '[]'::jsonb
  AND (run_after IS NULL OR run_after <= $2)
LIMIT 1";

const WAITING_SQLITE: &str = "\
SELECT 1 AS waiting FROM tasks
WHERE organization_id = ?1 AND status = 'queued' AND rate_limits <> '[]'
  AND (run_after IS NULL OR run_after <= ?2)
LIMIT 1";

/// The rate-limited tasks agent `$4` may claim, in claim order: `$1` organization, `$2` one
/// task or NULL, `$3` now, `$5` the agent's capabilities, `$6` each bucket's balance
/// (`{"name": tokens}`; a bucket not named does not exist and holds a task back in nothing),
/// `$7` how many. A task one of whose buckets holds fewer units than it needs is left out.
const CANDIDATES_POSTGRES: &str = "\
SELECT t.id, t.rate_limits FROM tasks t
WHERE t.organization_id = $1 AND t.status = 'queued' AND t.rate_limits <> '[]'::jsonb
  AND ($2::uuid IS NULL OR t.id = $2::uuid)
  AND (t.run_after IS NULL OR t.run_after <= $3)
  AND (t.assigned_agent_id IS NULL OR t.assigned_agent_id = $4)
  AND t.required_capabilities <@ $5::jsonb
  AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(t.rate_limits) u
      WHERE (u ->> 'units')::bigint
          > coalesce(($6::jsonb ->> (u ->> 'name'))::bigint, 9223372036854775807))
ORDER BY t.priority DESC, t.created_at, t.id
LIMIT $7
FOR NO KEY UPDATE SKIP LOCKED";

const CANDIDATES_SQLITE: &str = "\
SELECT t.id, t.rate_limits FROM tasks t
WHERE t.organization_id = ?1 AND t.status = 'queued' AND t.rate_limits <> '[]'
  AND (?2 IS NULL OR t.id = ?2)
  AND (t.run_after IS NULL OR t.run_after <= ?3)
  AND (t.assigned_agent_id IS NULL OR t.assigned_agent_id = ?4)
  AND NOT EXISTS (
      SELECT 1 FROM json_each(t.required_capabilities) r
      WHERE r.value NOT IN (SELECT c.value FROM json_each(?5) c))
  AND NOT EXISTS (SELECT 1 FROM json_each(t.rate_limits) u
      WHERE json_extract(u.value, '$.units') > coalesce(
          (SELECT b.value FROM json_each(?6) b WHERE b.key = json_extract(u.value, '$.name')),
          9223372036854775807))
ORDER BY t.priority DESC, t.created_at, t.id
LIMIT ?7";

/// What a task consumes, as its row stores it.
pub(crate) fn uses_of(stored: &serde_json::Value) -> RepoResult<RateLimitUses> {
    let raw: Vec<RawRateLimitUse> = serde_json::from_value(stored.clone())
        .map_err(|e| corrupt("task", format!("rate_limits: {e}")))?;
    RateLimitUses::parse(&raw).map_err(|e| corrupt("task", e))
}

fn bucket_of(row: &rate_limits::Model) -> RepoResult<TokenBucket> {
    let bad = |e: DomainError| corrupt(rate_limits::Entity::NAME, e);
    Ok(TokenBucket {
        capacity: TokenCount::parse("capacity", row.capacity).map_err(bad)?,
        period: RefillPeriod::parse("period_seconds", row.period_seconds).map_err(bad)?,
        tokens: u32::try_from(row.tokens).map_err(|e| corrupt(rate_limits::Entity::NAME, e))?,
        refilled_at: row.refilled_at,
    })
}

/// The rate limit of `row` with its balance at `at`.
fn to_rate_limit(row: rate_limits::Model, at: DateTime<Utc>) -> RepoResult<RateLimit> {
    let bucket = bucket_of(&row)?.refilled(at);
    Ok(RateLimit {
        id: RateLimitId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        name: RateLimitName::parse("name", &row.name)
            .map_err(|e| corrupt(rate_limits::Entity::NAME, e))?,
        capacity: bucket.capacity,
        period_seconds: bucket.period,
        tokens: bucket.tokens,
        created_at: row.created_at,
        updated_at: row.updated_at,
        revision: to_revision("rate_limit", row.revision)?,
    })
}

/// A locked bucket: its row as read, its balance as the claim goes, and whether the claim took
/// from it (a refill alone needs no writing: it is computed again from the row).
struct Held {
    row: rate_limits::Model,
    balance: TokenBucket,
    spent: bool,
}

/// What a claim set aside for rate-limited tasks (see the module's steps 3 to 5).
pub(super) struct Reservation {
    /// The rate-limited tasks the claim may take, in claim order.
    ids: Vec<Uuid>,
    /// What each of them consumes.
    uses: BTreeMap<Uuid, RateLimitUses>,
    /// The organization's buckets by name, locked and refilled to the claim's time.
    buckets: BTreeMap<String, Held>,
}

impl Reservation {
    /// The ids as the PostgreSQL claim takes them: a JSON array of UUIDs.
    pub(super) fn postgres_ids(&self) -> String {
        json!(self.ids).to_string()
    }

    /// The ids as the SQLite claim compares them: a JSON array of `hex(id)`.
    pub(super) fn sqlite_ids(&self) -> String {
        let hex: Vec<String> = self
            .ids
            .iter()
            .map(|id| id.simple().to_string().to_uppercase())
            .collect();
        json!(hex).to_string()
    }
}

/// Takes `uses` from `buckets` if each bucket that exists holds its units: whether it did
/// (nothing is taken otherwise).
fn take_all(buckets: &mut BTreeMap<String, Held>, uses: &RateLimitUses) -> bool {
    let fits = uses.iter().all(|u| {
        buckets
            .get(u.name.as_str())
            .is_none_or(|held| held.balance.tokens >= u.units.get())
    });
    if fits {
        for u in uses.iter() {
            if let Some(held) = buckets.get_mut(u.name.as_str()) {
                held.spent |= held.balance.take(u.units.get());
            }
        }
    }
    fits
}

fn name_taken(name: &RateLimitName) -> RepoError {
    RepoError::taken(
        rate_limits::Entity::NAME,
        "name",
        format!("a rate limit named {name} already exists"),
    )
}

impl SeaStore {
    /// The rate limit named `name` of the context's organization, locked on PostgreSQL when
    /// asked.
    async fn find_rate_limit(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        name: &RateLimitName,
        lock: Lock,
    ) -> RepoResult<rate_limits::Model> {
        let mut query =
            scoped::<rate_limits::Entity>(ctx).filter(rate_limits::Column::Name.eq(name.as_str()));
        if lock == Lock::ForUpdate && self.is_postgres() {
            query = query.lock_exclusive();
        }
        query
            .one(db)
            .await
            .map_err(db_err)?
            .ok_or_else(|| RepoError::not_found(rate_limits::Entity::NAME, name))
    }

    /// The capacity of each of the organization's buckets among `names`; no query for none.
    pub(super) async fn rate_limit_capacities(
        &self,
        m: &Mutation<'_>,
        names: &BTreeSet<String>,
    ) -> RepoResult<BTreeMap<String, i64>> {
        if names.is_empty() {
            return Ok(BTreeMap::new());
        }
        let rows: Vec<(String, i64)> = scoped::<rate_limits::Entity>(m.ctx())
            .select_only()
            .column(rate_limits::Column::Name)
            .column(rate_limits::Column::Capacity)
            .filter(rate_limits::Column::Name.is_in(names.iter().cloned()))
            .into_tuple()
            .all(m.txn())
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().collect())
    }

    /// The buckets among those a task consumes (`stored`, as its row holds them) that lack the
    /// units it needs now.
    pub(super) async fn short_rate_limits(
        &self,
        ctx: &Ctx,
        stored: &serde_json::Value,
    ) -> RepoResult<Vec<String>> {
        let uses = uses_of(stored)?;
        if uses.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<&str> = uses.iter().map(|u| u.name.as_str()).collect();
        let rows = scoped::<rate_limits::Entity>(ctx)
            .filter(rate_limits::Column::Name.is_in(names))
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let at = self.now();
        let mut short = Vec::new();
        for row in rows {
            let tokens = bucket_of(&row)?.refilled(at).tokens;
            if uses
                .iter()
                .any(|u| u.name.as_str() == row.name && u.units.get() > tokens)
            {
                short.push(row.name);
            }
        }
        Ok(short)
    }

    /// Whether a rate-limited task of the organization is claimable by time at `at`.
    pub(super) async fn rate_limited_waiting(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let (backend, sql) = if self.is_postgres() {
            (DbBackend::Postgres, WAITING_POSTGRES)
        } else {
            (DbBackend::Sqlite, WAITING_SQLITE)
        };
        let values: [Value; 2] = [ctx.org().as_uuid().into(), at.into()];
        let found = db
            .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .map_err(db_err)?;
        Ok(found.is_some())
    }

    /// Steps 1 to 3 of a rate-limited claim by `agent` of at most `limit` tasks (or of `only`).
    pub(super) async fn reserve_rate_limits(
        &self,
        m: &Mutation<'_>,
        agent: &agents::Model,
        limit: u32,
        only: Option<Uuid>,
    ) -> RepoResult<Reservation> {
        let mut locked =
            scoped::<rate_limits::Entity>(m.ctx()).order_by_asc(rate_limits::Column::Name);
        if self.is_postgres() {
            locked = locked.lock_exclusive();
        }
        let mut buckets = BTreeMap::new();
        for row in locked.all(m.txn()).await.map_err(db_err)? {
            let balance = bucket_of(&row)?.refilled(m.at());
            let held = Held {
                row,
                balance,
                spent: false,
            };
            buckets.insert(held.row.name.clone(), held);
        }
        let balances: serde_json::Map<String, serde_json::Value> = buckets
            .iter()
            .map(|(name, held)| (name.clone(), json!(held.balance.tokens)))
            .collect();
        let values: Vec<Value> = vec![
            m.ctx().org().as_uuid().into(),
            only.into(),
            m.at().into(),
            agent.id.into(),
            agent.capabilities.to_string().into(),
            serde_json::Value::Object(balances).to_string().into(),
            i64::from(limit + LOOKAHEAD).into(),
        ];
        let statement = if self.is_postgres() {
            Statement::from_sql_and_values(DbBackend::Postgres, CANDIDATES_POSTGRES, values)
        } else {
            Statement::from_sql_and_values(DbBackend::Sqlite, CANDIDATES_SQLITE, values)
        };
        let rows = m.txn().query_all_raw(statement).await.map_err(db_err)?;
        let mut reservation = Reservation {
            ids: Vec::new(),
            uses: BTreeMap::new(),
            buckets: BTreeMap::new(),
        };
        // A trial run on copies of the balances: the real ones are taken in `settle`, for the
        // tasks the claim statement actually hands out.
        let mut trial: BTreeMap<String, Held> = buckets
            .iter()
            .map(|(name, held)| {
                (
                    name.clone(),
                    Held {
                        row: held.row.clone(),
                        balance: held.balance,
                        spent: false,
                    },
                )
            })
            .collect();
        for row in rows {
            if reservation.ids.len() >= limit as usize {
                break;
            }
            let id: Uuid = row.try_get("", "id").map_err(db_err)?;
            let stored: serde_json::Value = row.try_get("", "rate_limits").map_err(db_err)?;
            let uses = uses_of(&stored)?;
            if take_all(&mut trial, &uses) {
                reservation.ids.push(id);
                reservation.uses.insert(id, uses);
            }
        }
        reservation.buckets = buckets;
        Ok(reservation)
    }

    /// Step 5: takes from the buckets what the `claimed` tasks consume and writes the balances
    /// that changed.
    pub(super) async fn settle_rate_limits(
        &self,
        m: &Mutation<'_>,
        mut reservation: Reservation,
        claimed: impl IntoIterator<Item = Uuid>,
    ) -> RepoResult<()> {
        for id in claimed {
            if let Some(uses) = reservation.uses.get(&id)
                && !take_all(&mut reservation.buckets, uses)
            {
                // The trial run took these units from the same balances: unreachable unless
                // the claim handed out a task it did not reserve.
                return Err(RepoError::internal(format!(
                    "task {id} was claimed without the tokens it needs"
                )));
            }
        }
        for held in reservation.buckets.values().filter(|held| held.spent) {
            rate_limits::Entity::update_many()
                .col_expr(
                    rate_limits::Column::Tokens,
                    Expr::value(i64::from(held.balance.tokens)),
                )
                .col_expr(
                    rate_limits::Column::RefilledAt,
                    Expr::value(held.balance.refilled_at),
                )
                .col_expr(
                    rate_limits::Column::Revision,
                    rate_limits::Entity::next_revision(),
                )
                .filter(rate_limits::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
                .filter(rate_limits::Column::Id.eq(held.row.id))
                .exec(m.txn())
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl RateLimitRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), rate_limit = %new.name))]
    async fn create_rate_limit(&self, ctx: &Ctx, new: NewRateLimit) -> RepoResult<RateLimit> {
        self.mutate(ctx, async |m| {
            let bucket = TokenBucket::full(new.capacity, new.period, m.at());
            let row = rate_limits::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(RateLimitId::new().as_uuid()),
                name: Set(new.name.as_str().to_owned()),
                capacity: Set(i64::from(bucket.capacity.get())),
                period_seconds: Set(i64::from(bucket.period.seconds())),
                tokens: Set(i64::from(bucket.tokens)),
                refilled_at: Set(bucket.refilled_at),
                created_at: Set(m.at()),
                updated_at: Set(m.at()),
                revision: Set(Revision::FIRST.get()),
            }
            .insert(m.txn())
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    name_taken(&new.name)
                } else {
                    db_err(e)
                }
            })?;
            let limit = to_rate_limit(row, m.at())?;
            m.audit::<rate_limits::Entity>(Verb::Create, limit.id, snapshot(&limit))
                .await?;
            Ok(limit)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), rate_limit = %name))]
    async fn get_rate_limit(&self, ctx: &Ctx, name: &RateLimitName) -> RepoResult<RateLimit> {
        let row = self
            .find_rate_limit(&self.db().await, ctx, name, Lock::None)
            .await?;
        to_rate_limit(row, self.now())
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_rate_limits(
        &self,
        ctx: &Ctx,
        page: PageRequest<RateLimitSort>,
    ) -> RepoResult<Page<RateLimit, RateLimitSort>> {
        let keyset = match page.sort() {
            RateLimitSort::CreatedAt => Keyset::OldestFirst,
            RateLimitSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(scoped::<rate_limits::Entity>(ctx), &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let at = self.now();
        let limits = rows
            .into_iter()
            .map(|row| to_rate_limit(row, at))
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(limits, &page, |l| {
            Cursor::after(page.sort(), l.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), rate_limit = %name))]
    async fn update_rate_limit(
        &self,
        ctx: &Ctx,
        name: &RateLimitName,
        patch: RateLimitPatch,
        expected: Option<Revision>,
    ) -> RepoResult<RateLimit> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_rate_limit(m.txn(), ctx, name, Lock::ForUpdate)
                .await?;
            let read = row.revision;
            expect_revision::<rate_limits::Entity>(name, read, expected)?;
            let before = to_rate_limit(row.clone(), m.at())?;
            let mut balance = bucket_of(&row)?.refilled(m.at());
            balance.capacity = patch.capacity.unwrap_or(balance.capacity);
            balance.period = patch.period.unwrap_or(balance.period);
            balance.tokens = balance.tokens.min(balance.capacity.get());
            if balance.capacity == before.capacity && balance.period == before.period_seconds {
                return Ok(before);
            }
            let mut update = row.into_active_model();
            update.capacity = Set(i64::from(balance.capacity.get()));
            update.period_seconds = Set(i64::from(balance.period.seconds()));
            update.tokens = Set(i64::from(balance.tokens));
            update.refilled_at = Set(balance.refilled_at);
            update.updated_at = Set(m.at());
            let after = to_rate_limit(
                update_revised(m.txn(), name, update, read, expected, db_err).await?,
                m.at(),
            )?;
            m.audit::<rate_limits::Entity>(Verb::Update, after.id, diff(&before, &after))
                .await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), rate_limit = %name))]
    async fn delete_rate_limit(
        &self,
        ctx: &Ctx,
        name: &RateLimitName,
        expected: Option<Revision>,
    ) -> RepoResult<()> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_rate_limit(m.txn(), ctx, name, Lock::ForUpdate)
                .await?;
            let read = row.revision;
            expect_revision::<rate_limits::Entity>(name, read, expected)?;
            let limit = to_rate_limit(row, m.at())?;
            delete_revised::<rate_limits::Entity>(m.txn(), ctx, limit.id, read, expected).await?;
            m.audit::<rate_limits::Entity>(Verb::Delete, limit.id, snapshot(&limit))
                .await
        })
        .await
    }
}
