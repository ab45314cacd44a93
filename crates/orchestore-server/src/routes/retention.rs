//! `/api/v1/retention-policy`: how long the organization keeps each kind of row it is done
//! with.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use orchestore_domain::{
    Permission, RetentionAge, RetentionPolicy, RetentionRules, RetentionTarget,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors};
use crate::extract::ApiJson;
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(get_policy, put_policy))]
pub(super) struct Api;

pub(super) fn configure(cfg: &mut super::Routes) {
    cfg.service(
        super::resource("/retention-policy", "GET, PUT")
            .route(web::get().to(get_policy))
            .route(web::put().to(put_policy)),
    );
}

/// The whole policy: each target's age (`"90d"`, `"36h"`, …), or null (or left out) to keep
/// its rows forever.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyBody {
    #[serde(default)]
    #[schema(value_type = Option<RetentionAge>)]
    succeeded_tasks: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<RetentionAge>)]
    failed_tasks: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<RetentionAge>)]
    cancelled_tasks: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<RetentionAge>)]
    events: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<RetentionAge>)]
    metrics: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<RetentionAge>)]
    messages: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<RetentionAge>)]
    sessions: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<RetentionAge>)]
    audit_logs: Option<String>,
}

impl PolicyBody {
    fn age(&self, target: RetentionTarget) -> Option<&str> {
        match target {
            RetentionTarget::SucceededTasks => self.succeeded_tasks.as_deref(),
            RetentionTarget::FailedTasks => self.failed_tasks.as_deref(),
            RetentionTarget::CancelledTasks => self.cancelled_tasks.as_deref(),
            RetentionTarget::Events => self.events.as_deref(),
            RetentionTarget::Metrics => self.metrics.as_deref(),
            RetentionTarget::Messages => self.messages.as_deref(),
            RetentionTarget::Sessions => self.sessions.as_deref(),
            RetentionTarget::AuditLogs => self.audit_logs.as_deref(),
        }
    }
}

/// The policy: each target's age, or null where its rows are kept forever.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PolicyView {
    #[schema(value_type = Option<RetentionAge>)]
    succeeded_tasks: Option<String>,
    #[schema(value_type = Option<RetentionAge>)]
    failed_tasks: Option<String>,
    #[schema(value_type = Option<RetentionAge>)]
    cancelled_tasks: Option<String>,
    #[schema(value_type = Option<RetentionAge>)]
    events: Option<String>,
    #[schema(value_type = Option<RetentionAge>)]
    metrics: Option<String>,
    #[schema(value_type = Option<RetentionAge>)]
    messages: Option<String>,
    #[schema(value_type = Option<RetentionAge>)]
    sessions: Option<String>,
    #[schema(value_type = Option<RetentionAge>)]
    audit_logs: Option<String>,
    /// When the policy was last set; null until it is.
    updated_at: Option<DateTime<Utc>>,
}

impl From<&RetentionPolicy> for PolicyView {
    fn from(policy: &RetentionPolicy) -> Self {
        let age = |target: RetentionTarget| policy.rules.age(target).map(|age| age.to_string());
        Self {
            succeeded_tasks: age(RetentionTarget::SucceededTasks),
            failed_tasks: age(RetentionTarget::FailedTasks),
            cancelled_tasks: age(RetentionTarget::CancelledTasks),
            events: age(RetentionTarget::Events),
            metrics: age(RetentionTarget::Metrics),
            messages: age(RetentionTarget::Messages),
            sessions: age(RetentionTarget::Sessions),
            audit_logs: age(RetentionTarget::AuditLogs),
            updated_at: policy.updated_at,
        }
    }
}

/// `GET /api/v1/retention-policy` → the policy (every target and `updated_at` null until one
/// is set).
#[utoipa::path(
    get,
    path = "/api/v1/retention-policy",
    summary = "Get the retention policy",
    tag = "retention",
    responses((status = 200, description = "The organization's retention policy",
        body = PolicyView))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn get_policy(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::OrganizationsRead)?;
    let policy = state.store.retention_policy(ctx).await?;
    Ok(HttpResponse::Ok().json(PolicyView::from(&policy)))
}

/// `PUT /api/v1/retention-policy` with the whole policy → the policy.
#[utoipa::path(
    put,
    path = "/api/v1/retention-policy",
    summary = "Replace the retention policy",
    tag = "retention",
    request_body = PolicyBody,
    responses((status = 200, description = "The organization's new retention policy",
        body = PolicyView))
)]
#[tracing::instrument(skip_all)]
pub(crate) async fn put_policy(
    state: web::Data<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<PolicyBody>,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::OrganizationsWrite)?;
    let mut errors = FieldErrors::default();
    let mut rules = RetentionRules::default();
    for target in RetentionTarget::ALL {
        if let Some(text) = body.age(target) {
            let age = errors.check(RetentionAge::parse(target.as_str(), text));
            rules = rules.with(target, age);
        }
    }
    if !errors.is_empty() {
        return Err(errors.into_error().into());
    }
    let policy = state.store.set_retention_policy(ctx, rules).await?;
    Ok(HttpResponse::Ok().json(PolicyView::from(&policy)))
}
