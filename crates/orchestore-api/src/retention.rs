//! `/api/v1/retention-policy`: how long the organization keeps each kind of row it is done
//! with.

use chrono::{DateTime, Utc};
use orchestore_domain::{RetentionAge, RetentionPolicy, RetentionRules, RetentionTarget, Revision};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{FieldErrors, Invalid};

/// The whole policy: each target's age (`"90d"`, `"36h"`, …), or null (or left out) to keep
/// its rows forever.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<RetentionAge>)]
    pub succeeded_tasks: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<RetentionAge>)]
    pub failed_tasks: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<RetentionAge>)]
    pub cancelled_tasks: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<RetentionAge>)]
    pub events: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<RetentionAge>)]
    pub metrics: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<RetentionAge>)]
    pub messages: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<RetentionAge>)]
    pub sessions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<RetentionAge>)]
    pub audit_logs: Option<String>,
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

    /// The rules: each target's age, every bad one reported under the target's name.
    pub fn into_rules(self) -> Result<RetentionRules, Invalid> {
        let mut errors = FieldErrors::default();
        let mut rules = RetentionRules::default();
        for target in RetentionTarget::ALL {
            if let Some(text) = self.age(target) {
                let age = errors.check(RetentionAge::parse(target.as_str(), text));
                rules = rules.with(target, age);
            }
        }
        if errors.is_empty() {
            Ok(rules)
        } else {
            Err(errors.into_error())
        }
    }
}

/// The policy: each target's age, or null where its rows are kept forever.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PolicyView {
    #[schema(value_type = Option<RetentionAge>)]
    pub succeeded_tasks: Option<String>,
    #[schema(value_type = Option<RetentionAge>)]
    pub failed_tasks: Option<String>,
    #[schema(value_type = Option<RetentionAge>)]
    pub cancelled_tasks: Option<String>,
    #[schema(value_type = Option<RetentionAge>)]
    pub events: Option<String>,
    #[schema(value_type = Option<RetentionAge>)]
    pub metrics: Option<String>,
    #[schema(value_type = Option<RetentionAge>)]
    pub messages: Option<String>,
    #[schema(value_type = Option<RetentionAge>)]
    pub sessions: Option<String>,
    #[schema(value_type = Option<RetentionAge>)]
    pub audit_logs: Option<String>,
    /// When the policy was last set; null until it is.
    pub updated_at: Option<DateTime<Utc>>,
    /// 1 until the policy is first set, one more with every `PUT`; sent as the `ETag`.
    pub revision: Revision,
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
            revision: policy.revision,
        }
    }
}
