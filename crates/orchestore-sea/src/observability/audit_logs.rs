//! The audit log: listed by filter, sealed into a hash chain per organization, and verified.
//!
//! Mutations insert their rows unsealed, each in its own transaction, so that one
//! organization's writers never queue on a shared row. Sealing comes after, in batches: under
//! the organization's chain head, locked (`FOR UPDATE` on PostgreSQL; SQLite's write
//! transaction already excludes every other writer), it numbers the unsealed rows in the order
//! (`created_at`, `id`), links each to the one before ([`chain::link`]) and moves the head. A
//! row that commits late, with an earlier `created_at`, is sealed by the next batch, after the
//! rows sealed already: the chain's order is the order of sealing.

use std::collections::BTreeSet;
use std::net::IpAddr;

use chrono::{DateTime, Utc};

use orchestore_domain::{AuditLogId, OrganizationId};
use orchestore_repo::{
    AuditBacklog, AuditEntry, AuditFilter, AuditRepo, AuditSort, ChainBreak, ChainHead,
    ChainReport, Ctx, Cursor, Page, PageRequest, RepoError, RepoResult, SealOutcome,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use uuid::Uuid;

use super::chain::{self, GENESIS};
use super::entity::{audit_chain_heads, audit_logs};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::scoped::{Keyset, keyset_page, scoped};
use crate::store::now;

crate::scoped::entities! {
    tenanted: audit_logs::Entity => "audit_log";
    audited:
}

/// Rows sealed in one transaction: the head stays locked, and SQLite's writers wait, for as
/// long as it takes.
const SEAL_BATCH: u32 = 500;
/// Rows read at a time while verifying.
const VERIFY_PAGE: u64 = 1000;
/// Audit rows sealed, counted as each batch commits (like the queue's counters, through the
/// `metrics` facade: a no-op unless the embedding program installs a recorder).
const SEALED_ROWS: &str = "orchestore_audit_sealed_rows_total";

/// Gives the sealer's counter its `# HELP` text in the recorder installed now (the server
/// calls it once it has installed its own).
pub fn describe_metrics() {
    ::metrics::describe_counter!(
        SEALED_ROWS,
        "Audit rows sealed into their organization's chain"
    );
}

fn to_entry(row: audit_logs::Model) -> RepoResult<AuditEntry> {
    let client_addr = row
        .client_addr
        .as_deref()
        .map(str::parse::<IpAddr>)
        .transpose()
        .map_err(|e| corrupt("audit_log", e))?;
    let credential = row
        .credential
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e| corrupt("audit_log", e))?;
    let seq = row
        .seq
        .map(u64::try_from)
        .transpose()
        .map_err(|e| corrupt("audit_log", e))?;
    Ok(AuditEntry {
        id: AuditLogId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        actor: row.actor,
        action: row.action,
        entity: row.entity,
        entity_id: row.entity_id,
        changes: row.changes,
        request_id: row.request_id,
        client_addr,
        credential,
        seq,
        hash: row.hash,
        created_at: row.created_at,
    })
}

fn to_head(row: audit_chain_heads::Model) -> RepoResult<ChainHead> {
    Ok(ChainHead {
        seq: u64::try_from(row.seq).map_err(|e| corrupt("audit_chain_head", e))?,
        hash: row.hash,
        sealed_at: row.sealed_at,
    })
}

/// A stored sequence number as the API counts it (the schema has no check: a tampered one may
/// be anything).
fn place(seq: i64) -> u64 {
    u64::try_from(seq).unwrap_or(0)
}

fn log_id(row: &audit_logs::Model) -> AuditLogId {
    AuditLogId::from_uuid(row.id)
}

/// `row`'s hash, when it is sealed at its `seq` right after a row whose hash is `previous`.
fn linked_after(previous: &[u8; 32], row: &audit_logs::Model) -> Option<[u8; 32]> {
    let (seq, stored) = (row.seq?, chain::parse_hash(row.hash.as_deref()?)?);
    (chain::link(previous, row, seq) == stored).then_some(stored)
}

async fn head_of(
    db: &impl ConnectionTrait,
    org: Uuid,
) -> RepoResult<Option<audit_chain_heads::Model>> {
    audit_chain_heads::Entity::find_by_id(org)
        .one(db)
        .await
        .map_err(db_err)
}

/// The organization's sealed rows with `seq` in `from..=to`, in chain order, at most `limit`.
async fn sealed_rows(
    db: &impl ConnectionTrait,
    org: Uuid,
    from: i64,
    to: i64,
    limit: u64,
) -> RepoResult<Vec<audit_logs::Model>> {
    audit_logs::Entity::find()
        .filter(audit_logs::Column::OrganizationId.eq(org))
        .filter(audit_logs::Column::Seq.gte(from))
        .filter(audit_logs::Column::Seq.lte(to))
        .order_by_asc(audit_logs::Column::Seq)
        .limit(limit)
        .all(db)
        .await
        .map_err(db_err)
}

/// Where the walk of `head`'s chain starts: the place after its anchor and the anchor's hash
/// (the start of the chain while retention purged nothing).
fn anchor_of(head: &audit_chain_heads::Model) -> RepoResult<(i64, [u8; 32])> {
    match (head.anchor_seq, head.anchor_hash.as_deref()) {
        (0, None) => Ok((1, GENESIS)),
        (seq, Some(hash)) if seq > 0 => chain::parse_hash(hash)
            .map(|hash| (seq + 1, hash))
            .ok_or_else(|| corrupt("audit_chain_head", "its anchor holds no hash")),
        _ => Err(corrupt(
            "audit_chain_head",
            "its anchor has a place without a hash, or a hash without a place",
        )),
    }
}

/// The rows at the front of `head`'s chain that a purge of rows written before `cutoff` may
/// delete, read from place `from` (after a row whose hash is `previous`), at most `limit`: each
/// at its place, written before `cutoff` and linking after the one before it. It stops at the
/// first that is not, so that a purge never removes a row that does not verify (`audit verify`
/// goes on naming it). Returns how many, and the place and hash of the last.
async fn purgeable(
    db: &impl ConnectionTrait,
    head: &audit_chain_heads::Model,
    (from, previous): (i64, [u8; 32]),
    cutoff: DateTime<Utc>,
    limit: u64,
) -> RepoResult<(u64, Option<(i64, [u8; 32])>)> {
    let rows = sealed_rows(db, head.organization_id, from, head.seq, limit).await?;
    let (mut count, mut last, mut previous) = (0, None, previous);
    for (row, at) in rows.iter().zip(from..) {
        if row.seq != Some(at) || row.created_at >= cutoff {
            break;
        }
        let Some(hash) = linked_after(&previous, row) else {
            break;
        };
        previous = hash;
        last = Some((at, hash));
        count += 1;
    }
    Ok((count, last))
}

impl SeaStore {
    /// Deletes, in one transaction holding the organization's chain head, up to `limit` sealed
    /// audit rows from the front of its chain that were written before `cutoff`, and moves the
    /// chain's anchor to the last of them; returns how many went.
    pub(crate) async fn purge_audit_batch(
        &self,
        org: Uuid,
        cutoff: DateTime<Utc>,
        limit: u64,
    ) -> RepoResult<u64> {
        let held = self.db().await;
        let txn = held.begin_write().await.map_err(db_err)?;
        match self.purge_audit_in(&txn, org, cutoff, limit).await {
            Ok(purged) => {
                txn.commit().await.map_err(db_err)?;
                Ok(purged)
            }
            Err(err) => {
                if let Err(rollback) = txn.rollback().await {
                    tracing::warn!(error = %rollback, "rolling back a failed audit purge");
                }
                Err(err)
            }
        }
    }

    async fn purge_audit_in(
        &self,
        txn: &impl ConnectionTrait,
        org: Uuid,
        cutoff: DateTime<Utc>,
        limit: u64,
    ) -> RepoResult<u64> {
        let mut locking = audit_chain_heads::Entity::find_by_id(org);
        if self.is_postgres() {
            locking = locking.lock_exclusive();
        }
        let Some(head) = locking.one(txn).await.map_err(db_err)? else {
            return Ok(0);
        };
        let start = anchor_of(&head)?;
        let (count, Some((last, hash))) = purgeable(txn, &head, start, cutoff, limit).await? else {
            return Ok(0);
        };
        let deleted = audit_logs::Entity::delete_many()
            .filter(audit_logs::Column::OrganizationId.eq(org))
            .filter(audit_logs::Column::Seq.gte(start.0))
            .filter(audit_logs::Column::Seq.lte(last))
            .exec(txn)
            .await
            .map_err(db_err)?;
        if deleted.rows_affected != count {
            return Err(RepoError::internal(format!(
                "purging the audit chain of organization {org} deleted {} rows instead of {count}",
                deleted.rows_affected
            )));
        }
        let mut anchored: audit_chain_heads::ActiveModel = head.into();
        anchored.anchor_seq = Set(last);
        anchored.anchor_hash = Set(Some(chain::to_hex(&hash)));
        anchored.update(txn).await.map_err(db_err)?;
        Ok(count)
    }

    /// How many audit rows [`SeaStore::purge_audit_batch`] would delete, batch after batch, now.
    pub(crate) async fn purgeable_audit(
        &self,
        org: Uuid,
        cutoff: DateTime<Utc>,
    ) -> RepoResult<u64> {
        let db = self.db().await;
        let Some(head) = head_of(&db, org).await? else {
            return Ok(0);
        };
        let (mut total, mut from) = (0, anchor_of(&head)?);
        loop {
            let (count, last) = purgeable(&db, &head, from, cutoff, VERIFY_PAGE).await?;
            total += count;
            match last {
                Some((seq, hash)) if count == VERIFY_PAGE => from = (seq + 1, hash),
                _ => return Ok(total),
            }
        }
    }

    /// Seals up to `limit` of the organization's unsealed rows in one transaction; returns how
    /// many it sealed and the head after it.
    async fn seal_batch(&self, org: Uuid, limit: u32) -> RepoResult<(u64, Option<ChainHead>)> {
        let held = self.db().await;
        let txn = held.begin_write().await.map_err(db_err)?;
        let sealed = self.seal_in(&txn, org, limit).await;
        match sealed {
            Ok(outcome) => {
                txn.commit().await.map_err(db_err)?;
                Ok(outcome)
            }
            Err(err) => {
                if let Err(rollback) = txn.rollback().await {
                    tracing::warn!(error = %rollback, "rolling back a failed seal");
                }
                Err(err)
            }
        }
    }

    async fn seal_in(
        &self,
        txn: &impl ConnectionTrait,
        org: Uuid,
        limit: u32,
    ) -> RepoResult<(u64, Option<ChainHead>)> {
        let unsealed = || {
            audit_logs::Entity::find()
                .filter(audit_logs::Column::OrganizationId.eq(org))
                .filter(audit_logs::Column::Seq.is_null())
        };
        if unsealed().one(txn).await.map_err(db_err)?.is_none() {
            let head = head_of(txn, org).await?.map(to_head).transpose()?;
            return Ok((0, head));
        }
        // The head exists before it is locked: the first sealer of an organization creates it
        // at the start of the chain (a sealer racing with it finds it there).
        audit_chain_heads::Entity::insert(audit_chain_heads::ActiveModel {
            organization_id: Set(org),
            seq: Set(0),
            hash: Set(chain::to_hex(&GENESIS)),
            sealed_at: Set(now()),
            anchor_seq: Set(0),
            anchor_hash: Set(None),
        })
        .on_conflict(
            OnConflict::column(audit_chain_heads::Column::OrganizationId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await
        .map_err(db_err)?;
        let mut locking = audit_chain_heads::Entity::find_by_id(org);
        if self.is_postgres() {
            locking = locking.lock_exclusive();
        }
        let head =
            locking.one(txn).await.map_err(db_err)?.ok_or_else(|| {
                RepoError::internal("the audit chain head vanished while sealing")
            })?;
        // Read under the lock: rows another sealer took before it was ours are sealed now.
        let rows = unsealed()
            .order_by_asc(audit_logs::Column::CreatedAt)
            .order_by_asc(audit_logs::Column::Id)
            .limit(u64::from(limit))
            .all(txn)
            .await
            .map_err(db_err)?;
        let mut previous = chain::parse_hash(&head.hash).ok_or_else(|| {
            RepoError::internal(format!(
                "the audit chain head of organization {org} holds no hash: verify the chain"
            ))
        })?;
        let mut seq = head.seq;
        let mut links = Vec::with_capacity(rows.len());
        for row in &rows {
            seq += 1;
            previous = chain::link(&previous, row, seq);
            links.push((row.id, seq, chain::to_hex(&previous)));
        }
        self.write_links(txn, org, links).await?;
        let mut moved: audit_chain_heads::ActiveModel = head.into();
        moved.seq = Set(seq);
        moved.hash = Set(chain::to_hex(&previous));
        moved.sealed_at = Set(now());
        let head = moved.update(txn).await.map_err(db_err)?;
        Ok((rows.len() as u64, Some(to_head(head)?)))
    }
}

/// Links rows of one organization in one statement on PostgreSQL: an `UPDATE` of a row is
/// never HOT here (`seq` is indexed), so each one writes every index of the row again, and a
/// statement per row (500 a batch) cost more than the creates that wrote them.
///
/// The rows are found by their primary key, the ids of the batch (`= ANY`), whatever the
/// planner believes of the table, and only then checked to be unsealed. Joined on the links
/// alone and checked by `seq IS NULL`, the statement matched the partial index of unsealed
/// rows, which the planner, from statistics taken while few rows waited, expected to hold
/// one: it scanned every unsealed row of the organization once per link, 58 ms a batch under
/// load (as much per row as the creates that wrote them) where the key takes 9 to 17. The
/// check is written so that it matches no index; `seq` starts at 1.
const SEAL_POSTGRES: &str = r#"UPDATE "audit_logs" AS a SET "seq" = l.seq, "hash" = l.hash
FROM jsonb_to_recordset($2::jsonb) AS l(id uuid, seq bigint, hash text)
WHERE a."organization_id" = $1
  AND a."id" = ANY (ARRAY(SELECT (e ->> 'id')::uuid FROM jsonb_array_elements($2::jsonb) AS e))
  AND a."id" = l.id AND coalesce(a."seq", 0) = 0"#;

impl SeaStore {
    /// Gives each row of `links` (its id, place and hash) its place in the chain; every one of
    /// them must still be unsealed (the head is held, so no other sealer can have taken it).
    async fn write_links(
        &self,
        txn: &impl ConnectionTrait,
        org: Uuid,
        links: Vec<(Uuid, i64, String)>,
    ) -> RepoResult<()> {
        let expected = links.len() as u64;
        let written = if self.is_postgres() {
            txn.execute_raw(seal_postgres(org, links))
                .await
                .map_err(db_err)?
                .rows_affected()
        } else {
            // SQLite runs in-process: a statement per row costs no round trip.
            let mut written = 0;
            for (id, seq, hash) in links {
                written += audit_logs::Entity::update_many()
                    .col_expr(audit_logs::Column::Seq, Expr::value(seq))
                    .col_expr(audit_logs::Column::Hash, Expr::value(hash))
                    .filter(audit_logs::Column::OrganizationId.eq(org))
                    .filter(audit_logs::Column::Id.eq(id))
                    .filter(audit_logs::Column::Seq.is_null())
                    .exec(txn)
                    .await
                    .map_err(db_err)?
                    .rows_affected;
            }
            written
        };
        if written != expected {
            return Err(RepoError::internal(format!(
                "{} of {expected} audit rows of organization {org} were sealed by another \
                 transaction while this one held the chain head",
                expected - written.min(expected)
            )));
        }
        Ok(())
    }
}

/// [`SEAL_POSTGRES`] for `links` (each row's id, place and hash) of organization `org`.
fn seal_postgres(org: Uuid, links: Vec<(Uuid, i64, String)>) -> Statement {
    let links: Vec<serde_json::Value> = links
        .into_iter()
        .map(|(id, seq, hash)| serde_json::json!({"id": id, "seq": seq, "hash": hash}))
        .collect();
    Statement::from_sql_and_values(
        DbBackend::Postgres,
        SEAL_POSTGRES,
        [org.into(), serde_json::Value::Array(links).into()],
    )
}

impl SeaStore {
    /// The plan of the statement that would seal the first `limit` unsealed rows of the
    /// context's organization (`EXPLAIN`, nothing written), for tests and diagnostics; `None`
    /// on SQLite, which seals each row by its primary key.
    pub async fn explain_seal(&self, ctx: &Ctx, limit: u32) -> RepoResult<Option<String>> {
        if !self.is_postgres() {
            return Ok(None);
        }
        let org = ctx.org().as_uuid();
        let ids: Vec<Uuid> = audit_logs::Entity::find()
            .select_only()
            .column(audit_logs::Column::Id)
            .filter(audit_logs::Column::OrganizationId.eq(org))
            .filter(audit_logs::Column::Seq.is_null())
            .order_by_asc(audit_logs::Column::CreatedAt)
            .order_by_asc(audit_logs::Column::Id)
            .limit(u64::from(limit))
            .into_tuple()
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let links = (1..)
            .zip(ids)
            .map(|(seq, id)| (id, seq, chain::to_hex(&GENESIS)))
            .collect();
        self.explain_raw(seal_postgres(org, links)).await.map(Some)
    }
}

/// The first thing wrong at `row`, which does not link after the row before it: `Altered` when
/// the row after it (`next`, or read up to `last`) still links after `row`'s stored hash (only
/// `row` changed), else `OutOfPlace`.
async fn classify(
    db: &impl ConnectionTrait,
    row: &audit_logs::Model,
    next: Option<&audit_logs::Model>,
    last: i64,
) -> RepoResult<ChainBreak> {
    let (id, seq) = (log_id(row), row.seq.map_or(0, place));
    let (Some(at), Some(stored)) = (row.seq, row.hash.as_deref().and_then(chain::parse_hash))
    else {
        return Ok(ChainBreak::Altered { id, seq });
    };
    let next = match next {
        Some(next) => Some(next.clone()),
        None if at < last => sealed_rows(db, row.organization_id, at + 1, last, 1)
            .await?
            .pop(),
        None => None,
    };
    Ok(match next {
        Some(next) if next.seq != Some(at + 1) || linked_after(&stored, &next).is_none() => {
            ChainBreak::OutOfPlace { id, seq }
        }
        _ => ChainBreak::Altered { id, seq },
    })
}

#[async_trait::async_trait]
impl AuditRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_audit(
        &self,
        ctx: &Ctx,
        filter: AuditFilter,
        page: PageRequest<AuditSort>,
    ) -> RepoResult<Page<AuditEntry, AuditSort>> {
        let mut query = scoped::<audit_logs::Entity>(ctx);
        if let Some(actor) = filter.actor {
            query = query.filter(audit_logs::Column::Actor.eq(actor.to_string()));
        }
        if let Some(entity) = filter.entity {
            query = query.filter(audit_logs::Column::Entity.eq(entity));
        }
        if let Some(entity_id) = filter.entity_id {
            query = query.filter(audit_logs::Column::EntityId.eq(entity_id));
        }
        if let Some(action) = filter.action {
            query = query.filter(audit_logs::Column::Action.eq(action));
        }
        if let Some(since) = filter.since {
            query = query.filter(audit_logs::Column::CreatedAt.gte(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(audit_logs::Column::CreatedAt.lt(until));
        }
        let keyset = match page.sort() {
            AuditSort::CreatedAt => Keyset::OldestFirst,
            AuditSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let entries = rows
            .into_iter()
            .map(to_entry)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(entries, &page, |e| {
            Cursor::after(page.sort(), e.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), max_rows))]
    async fn seal_audit(&self, ctx: &Ctx, max_rows: u32) -> RepoResult<SealOutcome> {
        let org = ctx.org().as_uuid();
        let mut outcome = SealOutcome {
            sealed: 0,
            more: false,
            head: None,
        };
        let mut left = max_rows;
        loop {
            let batch = left.min(SEAL_BATCH);
            if batch == 0 {
                let db = self.db().await;
                outcome.more = audit_logs::Entity::find()
                    .filter(audit_logs::Column::OrganizationId.eq(org))
                    .filter(audit_logs::Column::Seq.is_null())
                    .one(&db)
                    .await
                    .map_err(db_err)?
                    .is_some();
                if outcome.head.is_none() {
                    outcome.head = head_of(&db, org).await?.map(to_head).transpose()?;
                }
                return Ok(outcome);
            }
            let (sealed, head) = self.seal_batch(org, batch).await?;
            if sealed > 0 {
                ::metrics::counter!(SEALED_ROWS).increment(sealed);
            }
            outcome.sealed += sealed;
            outcome.head = head;
            if sealed < u64::from(batch) {
                return Ok(outcome);
            }
            left -= batch;
        }
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn verify_audit(&self, ctx: &Ctx) -> RepoResult<ChainReport> {
        let org = ctx.org().as_uuid();
        // One snapshot for the head and the rows: a seal committing between two reads would
        // otherwise show rows sealed after the head that was read, a chain that looks broken.
        let db = self.db().await.begin_snapshot().await.map_err(db_err)?;
        // The head first: every row at or before it was committed with it.
        let head_row = head_of(&db, org).await?;
        let unsealed = audit_logs::Entity::find()
            .filter(audit_logs::Column::OrganizationId.eq(org))
            .filter(audit_logs::Column::Seq.is_null())
            .count(&db)
            .await
            .map_err(db_err)?;
        let mut report = ChainReport {
            organization_id: ctx.org(),
            head: head_row.clone().map(to_head).transpose()?,
            verified: 0,
            unsealed,
            broken: None,
        };
        // Without a head, walk whatever is sealed: it should be nothing.
        let last = head_row.as_ref().map_or(i64::MAX, |head| head.seq);

        // The chain starts after its anchor: the last row retention purged, if any.
        let (mut expected, mut previous) = match &head_row {
            Some(head) => anchor_of(head)?,
            None => (1, GENESIS),
        };
        let mut first: Option<audit_logs::Model> = None;
        let mut tail: Option<audit_logs::Model> = None;
        'walk: loop {
            let page = sealed_rows(&db, org, expected, last, VERIFY_PAGE).await?;
            if page.is_empty() {
                break;
            }
            let full = page.len() as u64 == VERIFY_PAGE;
            for (at, row) in page.iter().enumerate() {
                let seq = row.seq.unwrap_or_default();
                if seq > expected {
                    report.broken = Some(ChainBreak::Missing {
                        seq: place(expected),
                        next_id: log_id(row),
                        next_seq: place(seq),
                    });
                    break 'walk;
                }
                let Some(hash) = linked_after(&previous, row) else {
                    report.broken = Some(classify(&db, row, page.get(at + 1), last).await?);
                    break 'walk;
                };
                previous = hash;
                expected += 1;
                report.verified += 1;
                if first.is_none() {
                    first = Some(row.clone());
                }
                tail = Some(row.clone());
            }
            if !full {
                break;
            }
        }
        if report.broken.is_some() {
            return Ok(report);
        }
        let Some(head) = head_row else {
            report.broken = first.map(|row| ChainBreak::HeadMissing {
                id: log_id(&row),
                seq: row.seq.map_or(0, place),
            });
            return Ok(report);
        };
        let last_seq = expected - 1;
        if last_seq < head.seq {
            report.broken = Some(ChainBreak::Truncated {
                head_seq: place(head.seq),
                last_seq: place(last_seq),
            });
            return Ok(report);
        }
        if let Some(row) = &tail
            && row.hash.as_deref() != Some(head.hash.as_str())
        {
            report.broken = Some(ChainBreak::HeadMismatch {
                id: log_id(row),
                seq: place(last_seq),
            });
            return Ok(report);
        }
        // In one snapshot, a row sealed past the head is the sign of a head moved back.
        if let Some(past) = sealed_rows(&db, org, head.seq + 1, i64::MAX, 1)
            .await?
            .pop()
        {
            report.broken = Some(ChainBreak::PastHead {
                id: log_id(&past),
                seq: past.seq.map_or(0, place),
            });
        }
        Ok(report)
    }

    async fn organizations_with_unsealed_audit(
        &self,
        limit: u32,
    ) -> RepoResult<Vec<OrganizationId>> {
        let organizations: Vec<Uuid> = audit_logs::Entity::find()
            .select_only()
            .column(audit_logs::Column::OrganizationId)
            .filter(audit_logs::Column::Seq.is_null())
            .distinct()
            .limit(u64::from(limit))
            .into_tuple()
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        Ok(organizations
            .into_iter()
            .map(OrganizationId::from_uuid)
            .collect())
    }

    async fn audited_organizations(&self) -> RepoResult<Vec<OrganizationId>> {
        let db = self.db().await;
        let logged: Vec<Uuid> = audit_logs::Entity::find()
            .select_only()
            .column(audit_logs::Column::OrganizationId)
            .distinct()
            .into_tuple()
            .all(&db)
            .await
            .map_err(db_err)?;
        let chained: Vec<Uuid> = audit_chain_heads::Entity::find()
            .select_only()
            .column(audit_chain_heads::Column::OrganizationId)
            .into_tuple()
            .all(&db)
            .await
            .map_err(db_err)?;
        let all: BTreeSet<Uuid> = logged.into_iter().chain(chained).collect();
        Ok(all.into_iter().map(OrganizationId::from_uuid).collect())
    }

    async fn audit_backlog(&self) -> RepoResult<AuditBacklog> {
        let counted: Option<(i64, Option<DateTime<Utc>>)> = audit_logs::Entity::find()
            .select_only()
            .column_as(audit_logs::Column::Id.count(), "unsealed")
            .column_as(audit_logs::Column::CreatedAt.min(), "oldest")
            .filter(audit_logs::Column::Seq.is_null())
            .into_tuple()
            .one(&self.db().await)
            .await
            .map_err(db_err)?;
        // An aggregate without GROUP BY has one row, even over no rows.
        let (unsealed, oldest_unsealed_at) = counted
            .ok_or_else(|| RepoError::internal("counting the unsealed audit rows gave no row"))?;
        Ok(AuditBacklog {
            unsealed: u64::try_from(unsealed).map_err(|e| corrupt("audit_log", e))?,
            oldest_unsealed_at,
        })
    }
}
