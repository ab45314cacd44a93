//! The audit log, and the hash chain that makes changes to it detectable.
//!
//! Every mutation appends one row in its own transaction, unsealed. A sealer
//! ([`AuditRepo::seal_audit`]) later gives the organization's unsealed rows consecutive
//! sequence numbers and chains them, each row's hash covering the hash of the row before it;
//! the organization's chain head keeps the last link. [`AuditRepo::verify_audit`] walks the
//! chain again and names the first row that does not fit.
//!
//! The telemetry of the system sits beside it, one file per record: [`events`],
//! [`components`] (the registry, communications and health), [`metrics`] and [`alerts`].

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use orchestore_domain::{AuditLogId, OrganizationId};
use serde::{Deserialize, Serialize};

use crate::{Actor, Credential, Ctx, Page, PageRequest, RepoResult};

pub mod alerts;
pub mod components;
pub mod events;
pub mod metrics;

pub use alerts::{AlertFilter, AlertRepo, AlertSort};
pub use components::{
    CommunicationFilter, CommunicationSort, ComponentFilter, ComponentRepo, ComponentSort,
    HealthFilter, HealthSort,
};
pub use events::{EventFilter, EventRepo, EventSort};
pub use metrics::MetricRepo;

/// One row of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: AuditLogId,
    pub organization_id: OrganizationId,
    /// `user:<id>`, `agent:<id>` or `system`.
    pub actor: String,
    /// `<entity>.<verb>`, e.g. `task.create`.
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    /// What changed, without secrets: a value whose name says it is one (`password_hash`,
    /// `api_key`, `…token…`, `…secret…`) is replaced by `"<redacted>"`.
    pub changes: serde_json::Value,
    pub request_id: Option<String>,
    /// The address of the connection the request came in on.
    #[schema(value_type = Option<String>)]
    pub client_addr: Option<IpAddr>,
    /// The session or API key the request was authenticated with: `session:<id>` or
    /// `api_key:<id>`.
    #[schema(value_type = Option<String>)]
    pub credential: Option<Credential>,
    /// Its place in the organization's chain, from 1; `None` until it is sealed.
    pub seq: Option<u64>,
    /// Its link in the chain (SHA-256, hex); `None` until it is sealed.
    pub hash: Option<String>,
    pub created_at: DateTime<Utc>,
}

crate::list_sort! {
    /// The orders of the audit log.
    pub enum AuditSort for "audit" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

/// Which audit rows to list; every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<Actor>,
    /// The entity's audit name, e.g. `task`.
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// The whole action, e.g. `task.status.cancelled`.
    pub action: Option<String>,
    /// Rows created at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Rows created before this instant.
    pub until: Option<DateTime<Utc>>,
}

/// An organization's last sealed link: its chain has `seq` rows, the last one with `hash`.
/// Copied somewhere an attacker of the database cannot write, it anchors the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChainHead {
    pub seq: u64,
    /// SHA-256, hex.
    pub hash: String,
    pub sealed_at: DateTime<Utc>,
}

/// What one call of [`AuditRepo::seal_audit`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SealOutcome {
    /// Rows sealed by this call.
    pub sealed: u64,
    /// Whether unsealed rows were left because the call reached its bound.
    pub more: bool,
    /// The chain's head after the call; `None` while nothing was ever sealed.
    pub head: Option<ChainHead>,
}

/// The audit rows the sealer has not reached yet, across every organization: how many, and
/// how long the oldest has waited. A backlog that keeps growing, or an oldest row that keeps
/// ageing, means sealing falls behind the writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditBacklog {
    /// Rows not sealed yet.
    pub unsealed: u64,
    /// When the oldest of them was written; `None` while every row is sealed.
    pub oldest_unsealed_at: Option<DateTime<Utc>>,
}

/// The first thing wrong with an organization's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainBreak {
    /// The row does not match its hash while the next row still chains on from that hash: the
    /// row was changed after it was sealed.
    Altered { id: AuditLogId, seq: u64 },
    /// The row does not match its hash, and the next row does not chain on from it either:
    /// rows were swapped, reordered or replaced from here.
    OutOfPlace { id: AuditLogId, seq: u64 },
    /// No row holds `seq` though row `next_id` follows at `next_seq`: rows were removed.
    Missing {
        seq: u64,
        next_id: AuditLogId,
        next_seq: u64,
    },
    /// The head says the chain has `head_seq` rows but the last one is at `last_seq` (0: none
    /// is left): its tail was removed.
    Truncated { head_seq: u64, last_seq: u64 },
    /// The last row is at the head's place but its hash is not the head's.
    HeadMismatch { id: AuditLogId, seq: u64 },
    /// Rows are sealed (the first at `seq`) but the organization has no chain head.
    HeadMissing { id: AuditLogId, seq: u64 },
    /// A row is sealed past the head: the head was moved back.
    PastHead { id: AuditLogId, seq: u64 },
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Altered { id, seq } => write!(
                f,
                "row {id} at seq {seq} does not match its hash: changed after it was sealed"
            ),
            Self::OutOfPlace { id, seq } => write!(
                f,
                "row {id} at seq {seq} does not belong there: rows swapped, reordered or \
                 replaced from here on"
            ),
            Self::Missing {
                seq,
                next_id,
                next_seq,
            } => {
                if next_seq - seq == 1 {
                    write!(
                        f,
                        "seq {seq} is missing (removed) before row {next_id} at seq {next_seq}"
                    )
                } else {
                    write!(
                        f,
                        "seq {seq} to {} are missing (removed) before row {next_id} at seq \
                         {next_seq}",
                        next_seq - 1
                    )
                }
            }
            Self::Truncated { head_seq, last_seq } => write!(
                f,
                "the head is at seq {head_seq} but the last row is at seq {last_seq}: seq {} \
                 onwards removed",
                last_seq + 1
            ),
            Self::HeadMismatch { id, seq } => write!(
                f,
                "row {id} at seq {seq}, the last, does not have the head's hash"
            ),
            Self::HeadMissing { id, seq } => write!(
                f,
                "rows are sealed (row {id} at seq {seq}) but the chain head is missing"
            ),
            Self::PastHead { id, seq } => write!(
                f,
                "row {id} is sealed at seq {seq}, past the head: the head was moved back"
            ),
        }
    }
}

/// What [`AuditRepo::verify_audit`] found in one organization's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChainReport {
    pub organization_id: OrganizationId,
    /// The head the walk checked against (read before it).
    pub head: Option<ChainHead>,
    /// Rows whose link was checked before the walk stopped.
    pub verified: u64,
    /// Rows not sealed yet, which the chain does not cover.
    pub unsealed: u64,
    /// The first break, or `None` when the chain is intact.
    pub broken: Option<ChainBreak>,
}

impl ChainReport {
    pub fn is_intact(&self) -> bool {
        self.broken.is_none()
    }
}

/// Reads the audit log, and seals and verifies its chain; rows are written by the mutations
/// themselves.
#[async_trait::async_trait]
pub trait AuditRepo: Send + Sync {
    async fn list_audit(
        &self,
        ctx: &Ctx,
        filter: AuditFilter,
        page: PageRequest<AuditSort>,
    ) -> RepoResult<Page<AuditEntry, AuditSort>>;

    /// Seals up to `max_rows` of the organization's unsealed rows, oldest first (by
    /// `created_at`, then id), in transactions of a few hundred rows, each holding the
    /// organization's chain head locked, so that sealers running at once (server replicas, an
    /// embedding program) take turns and never fork the chain.
    async fn seal_audit(&self, ctx: &Ctx, max_rows: u32) -> RepoResult<SealOutcome>;

    /// Walks the organization's sealed rows in chain order, recomputing each link, and
    /// reports the first that does not fit (see [`ChainBreak`]) and how many rows are still
    /// unsealed. Rows sealed while it runs are left for the next walk.
    async fn verify_audit(&self, ctx: &Ctx) -> RepoResult<ChainReport>;

    /// Instance-wide, for the server's periodic sealer: organizations with unsealed rows, at
    /// most `limit` of them.
    async fn organizations_with_unsealed_audit(
        &self,
        limit: u32,
    ) -> RepoResult<Vec<OrganizationId>>;

    /// Instance-wide, for verifying every chain: each organization that has audit rows or a
    /// chain head (which outlives rows removed from under it), in id order.
    async fn audited_organizations(&self) -> RepoResult<Vec<OrganizationId>>;

    /// Instance-wide, for operators (`orchestore status`, the server's `/metrics`): the
    /// unsealed rows of every organization together. It reads the partial index that holds
    /// only unsealed rows (on PostgreSQL also the entries of rows sealed since the last
    /// vacuum), not the log.
    async fn audit_backlog(&self) -> RepoResult<AuditBacklog>;
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use orchestore_domain::{ApiKeyId, RetentionAge, RetentionTarget};
    use serde_json::json;

    use super::*;
    use crate::{PurgedRows, RetentionReport};

    /// What the server answers reads back equal.
    fn round_trips<T: Serialize + for<'de> Deserialize<'de> + PartialEq + fmt::Debug>(value: &T) {
        let text = serde_json::to_string(value).expect("serialize");
        let read: T = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{text} should read back: {error}"));
        assert_eq!(&read, value, "{text}");
    }

    #[test]
    fn audit_and_retention_answers_read_back_equal() {
        let now = Utc::now();
        let org = OrganizationId::new();
        let id = AuditLogId::new();
        round_trips(&AuditEntry {
            id,
            organization_id: org,
            actor: "system".into(),
            action: "task.create".into(),
            entity: "task".into(),
            entity_id: "t-1".into(),
            changes: json!({"title": "Review", "api_key": "<redacted>"}),
            request_id: Some("req-1".into()),
            client_addr: Some(IpAddr::from([10, 0, 0, 1])),
            credential: Some(Credential::ApiKey(ApiKeyId::new())),
            seq: Some(3),
            hash: Some("ab".repeat(32)),
            created_at: now,
        });
        round_trips(&ChainReport {
            organization_id: org,
            head: Some(ChainHead {
                seq: 3,
                hash: "cd".repeat(32),
                sealed_at: now,
            }),
            verified: 2,
            unsealed: 1,
            broken: Some(ChainBreak::Missing {
                seq: 2,
                next_id: id,
                next_seq: 3,
            }),
        });
        let purged = PurgedRows {
            target: RetentionTarget::Events,
            table: RetentionTarget::Events.table(),
            max_age: RetentionAge::parse("max_age", "90d").expect("age"),
            older_than: now,
            rows: 12,
        };
        round_trips(&RetentionReport {
            organization_id: org,
            dry_run: true,
            purged: vec![purged.clone()],
        });
        // The table is its target's: another one is refused.
        let mut wrong = serde_json::to_value(&purged).expect("serialize");
        wrong["table"] = json!("tasks");
        let error = serde_json::from_value::<PurgedRows>(wrong).expect_err("refused");
        assert!(error.to_string().contains("table:"), "{error}");
    }
}
