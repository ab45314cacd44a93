//! `/api/v1/audit-logs`: the organization's audit log and the verification of its chain.

use chrono::{DateTime, Utc};
use orchestore_repo::{Actor, AuditFilter, AuditSort, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::{FieldErrors, Invalid, page_request};

// `GET /api/v1/audit-logs`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListAuditQuery {
    /// `user:<id>`, `agent:<id>` or `system`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The kind of entity the rows are about, e.g. `task`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// The id of the entity the rows are about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// What was done, e.g. `task.create`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// RFC 3339: rows created at or after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// RFC 3339: rows created before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<AuditSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListAuditQuery {
    /// The rows to list and the page of them.
    pub fn into_filter(self) -> Result<(AuditFilter, PageRequest<AuditSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let actor = errors.check(self.actor.as_deref().map(str::parse::<Actor>).transpose());
        let page = page_request::<AuditSort>(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(actor), Some(page)) = (actor, page) else {
            return Err(errors.into_error());
        };
        let filter = AuditFilter {
            actor,
            entity: self.entity,
            entity_id: self.entity_id,
            action: self.action,
            since: self.since,
            until: self.until,
        };
        Ok((filter, page))
    }
}
