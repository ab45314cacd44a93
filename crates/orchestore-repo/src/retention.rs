//! Retention: each organization's policy, and the purge that applies it.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    OrganizationId, PurgeBatch, RetentionAge, RetentionPolicy, RetentionRules, RetentionTarget,
    Revision,
};
use serde::{Deserialize, Deserializer, Serialize};

use crate::{Ctx, RepoResult};

/// What one purge of an organization deleted (or, in a dry run, would delete), per target its
/// policy names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RetentionReport {
    pub organization_id: OrganizationId,
    pub dry_run: bool,
    pub purged: Vec<PurgedRows>,
}

impl RetentionReport {
    /// Rows deleted (or counted) over every target.
    pub fn total(&self) -> u64 {
        self.purged.iter().map(|purged| purged.rows).sum()
    }

    /// Rows deleted (or counted) for `target`; 0 when the policy does not name it.
    pub fn rows(&self, target: RetentionTarget) -> u64 {
        self.purged
            .iter()
            .find(|purged| purged.target == target)
            .map_or(0, |purged| purged.rows)
    }
}

/// One target's line of a [`RetentionReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PurgedRows {
    pub target: RetentionTarget,
    /// The table its rows are deleted from.
    pub table: &'static str,
    pub max_age: RetentionAge,
    /// Rows older than this were due.
    pub older_than: DateTime<Utc>,
    pub rows: u64,
}

/// The wire form of [`PurgedRows`]: its `table` is its target's, so it is read as text and
/// must be that one.
#[derive(Deserialize)]
struct RawPurgedRows {
    target: RetentionTarget,
    table: String,
    max_age: RetentionAge,
    older_than: DateTime<Utc>,
    rows: u64,
}

impl<'de> Deserialize<'de> for PurgedRows {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawPurgedRows::deserialize(deserializer)?;
        let table = raw.target.table();
        if raw.table != table {
            return Err(serde::de::Error::custom(format!(
                "table: the rows of {} are in {table}, not {:?}",
                raw.target, raw.table
            )));
        }
        Ok(Self {
            target: raw.target,
            table,
            max_age: raw.max_age,
            older_than: raw.older_than,
            rows: raw.rows,
        })
    }
}

#[async_trait::async_trait]
pub trait RetentionRepo: Send + Sync {
    /// The organization's policy; one never set keeps everything.
    async fn retention_policy(&self, ctx: &Ctx) -> RepoResult<RetentionPolicy>;

    /// Replaces the organization's policy (with its audit row) and returns it; with `expected`,
    /// only if the policy is still at that revision (else `RevisionMismatch`, nothing written).
    async fn set_retention_policy(
        &self,
        ctx: &Ctx,
        rules: RetentionRules,
        expected: Option<Revision>,
    ) -> RepoResult<RetentionPolicy>;

    /// Deletes the organization's rows that are older than its policy allows at `now`, in
    /// transactions of at most `batch` rows each, until none is left; with `dry_run`, deletes
    /// nothing and counts what it would delete. A finished task is kept while live work (a
    /// task not finished, a workflow execution still running) or a row of another kind
    /// (a message, a subtask, a reputation event, a match) refers to it. Audit rows go only
    /// when sealed, oldest first along the chain, and the chain's anchor moves with them so
    /// that verification starts at the first row kept. A purge that deleted rows writes one
    /// audit row with the counts.
    async fn purge_retention(
        &self,
        ctx: &Ctx,
        now: DateTime<Utc>,
        batch: PurgeBatch,
        dry_run: bool,
    ) -> RepoResult<RetentionReport>;

    /// Instance-wide, for the purge of every organization: those whose policy names at least
    /// one target, in id order.
    async fn organizations_with_retention_policy(&self) -> RepoResult<Vec<OrganizationId>>;
}
