//! `/api/v1/retention-policy`: how long the organization keeps each kind of row it is done
//! with.

use actix_web::{HttpResponse, web};
use orchestore_domain::{
    Permission, RetentionAge, RetentionPolicy, RetentionRules, RetentionTarget,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldErrors};
use crate::extract::ApiJson;
use crate::state::AppState;

/// The operations of this module, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi()]
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyBody {
    #[serde(default)]
    succeeded_tasks: Option<String>,
    #[serde(default)]
    failed_tasks: Option<String>,
    #[serde(default)]
    cancelled_tasks: Option<String>,
    #[serde(default)]
    events: Option<String>,
    #[serde(default)]
    metrics: Option<String>,
    #[serde(default)]
    messages: Option<String>,
    #[serde(default)]
    sessions: Option<String>,
    #[serde(default)]
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

fn policy_json(policy: &RetentionPolicy) -> Value {
    let mut fields: Map<String, Value> = RetentionTarget::ALL
        .into_iter()
        .map(|target| {
            let age = policy.rules.age(target).map(|age| age.to_string());
            (target.as_str().to_owned(), Value::from(age))
        })
        .collect();
    fields.insert(
        "updated_at".to_owned(),
        serde_json::to_value(policy.updated_at).unwrap_or(Value::Null),
    );
    Value::Object(fields)
}

/// `GET /api/v1/retention-policy` → the policy (every target null, and no `updated_at`, until
/// one is set).
#[tracing::instrument(skip_all)]
pub(crate) async fn get_policy(
    state: web::Data<AppState>,
    auth: Authenticated,
) -> Result<HttpResponse, ApiError> {
    let ctx = auth.require(Permission::OrganizationsRead)?;
    let policy = state.store.retention_policy(ctx).await?;
    Ok(HttpResponse::Ok().json(policy_json(&policy)))
}

/// `PUT /api/v1/retention-policy` with the whole policy → the policy.
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
        return Err(errors.into_error());
    }
    let policy = state.store.set_retention_policy(ctx, rules).await?;
    Ok(HttpResponse::Ok().json(policy_json(&policy)))
}
