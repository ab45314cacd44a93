//! `RetentionRepo`: the policy read and written, and the organizations that have one.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use orchestore_domain::{
    OrganizationId, PurgeBatch, RetentionAge, RetentionPolicy, RetentionRules, RetentionTarget,
    Revised, Revision,
};
use orchestore_repo::{Ctx, RepoResult, RetentionRepo, RetentionReport};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, NotSet, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::Value;
use uuid::Uuid;

use super::entity::retention_policies::{self, Column};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::{Audited, Verb, diff};
use crate::revision::{SettingsTable, replace_settings, to_revision};

impl SettingsTable for retention_policies::Entity {
    type Settings = RetentionRules;

    fn organization_column() -> Column {
        Column::OrganizationId
    }

    /// The row's rules, or none (keep everything) without one.
    fn settings_of(row: Option<retention_policies::Model>) -> RepoResult<Revised<RetentionRules>> {
        Ok(match row {
            Some(row) => {
                let policy = to_policy(row)?;
                Revised {
                    value: policy.rules,
                    revision: policy.revision,
                }
            }
            None => Revised {
                value: RetentionRules::default(),
                revision: Revision::FIRST,
            },
        })
    }
}

/// The column that keeps `target`'s age.
pub(super) fn column(target: RetentionTarget) -> Column {
    match target {
        RetentionTarget::SucceededTasks => Column::SucceededTasksSeconds,
        RetentionTarget::FailedTasks => Column::FailedTasksSeconds,
        RetentionTarget::CancelledTasks => Column::CancelledTasksSeconds,
        RetentionTarget::Events => Column::EventsSeconds,
        RetentionTarget::Metrics => Column::MetricsSeconds,
        RetentionTarget::Messages => Column::MessagesSeconds,
        RetentionTarget::Sessions => Column::SessionsSeconds,
        RetentionTarget::AuditLogs => Column::AuditLogsSeconds,
    }
}

fn stored_age(row: &retention_policies::Model, target: RetentionTarget) -> Option<i64> {
    match target {
        RetentionTarget::SucceededTasks => row.succeeded_tasks_seconds,
        RetentionTarget::FailedTasks => row.failed_tasks_seconds,
        RetentionTarget::CancelledTasks => row.cancelled_tasks_seconds,
        RetentionTarget::Events => row.events_seconds,
        RetentionTarget::Metrics => row.metrics_seconds,
        RetentionTarget::Messages => row.messages_seconds,
        RetentionTarget::Sessions => row.sessions_seconds,
        RetentionTarget::AuditLogs => row.audit_logs_seconds,
    }
}

fn to_policy(row: retention_policies::Model) -> RepoResult<RetentionPolicy> {
    let mut rules = RetentionRules::default();
    for target in RetentionTarget::ALL {
        let age = stored_age(&row, target)
            .map(|seconds| RetentionAge::from_seconds("age", seconds))
            .transpose()
            .map_err(|e| corrupt(retention_policies::Entity::NAME, e))?;
        rules = rules.with(target, age);
    }
    Ok(RetentionPolicy {
        organization_id: OrganizationId::from_uuid(row.organization_id),
        rules,
        updated_at: Some(row.updated_at),
        revision: to_revision(retention_policies::Entity::NAME, row.revision)?,
    })
}

/// The rules as the audit log records them: each target's age, or null.
fn audited_rules(rules: &RetentionRules) -> BTreeMap<&'static str, Option<String>> {
    RetentionTarget::ALL
        .into_iter()
        .map(|target| {
            (
                target.as_str(),
                rules.age(target).map(|age| age.to_string()),
            )
        })
        .collect()
}

pub(super) async fn policy_of(db: &impl ConnectionTrait, ctx: &Ctx) -> RepoResult<RetentionPolicy> {
    match retention_policies::Entity::find_by_id(ctx.org().as_uuid())
        .one(db)
        .await
        .map_err(db_err)?
    {
        Some(row) => to_policy(row),
        None => Ok(RetentionPolicy {
            organization_id: ctx.org(),
            rules: RetentionRules::default(),
            updated_at: None,
            revision: Revision::FIRST,
        }),
    }
}

#[async_trait::async_trait]
impl RetentionRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn retention_policy(&self, ctx: &Ctx) -> RepoResult<RetentionPolicy> {
        policy_of(&self.db().await, ctx).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn set_retention_policy(
        &self,
        ctx: &Ctx,
        rules: RetentionRules,
        expected: Option<Revision>,
    ) -> RepoResult<RetentionPolicy> {
        self.mutate(ctx, async |m| {
            let seconds = |target| Set(rules.age(target).map(RetentionAge::seconds));
            let (before, revision) = replace_settings(
                m.txn(),
                ctx,
                retention_policies::ActiveModel {
                    organization_id: Set(ctx.org().as_uuid()),
                    succeeded_tasks_seconds: seconds(RetentionTarget::SucceededTasks),
                    failed_tasks_seconds: seconds(RetentionTarget::FailedTasks),
                    cancelled_tasks_seconds: seconds(RetentionTarget::CancelledTasks),
                    events_seconds: seconds(RetentionTarget::Events),
                    metrics_seconds: seconds(RetentionTarget::Metrics),
                    messages_seconds: seconds(RetentionTarget::Messages),
                    sessions_seconds: seconds(RetentionTarget::Sessions),
                    audit_logs_seconds: seconds(RetentionTarget::AuditLogs),
                    updated_at: Set(m.at()),
                    revision: NotSet,
                },
                expected,
            )
            .await?;
            m.audit::<retention_policies::Entity>(
                Verb::Update,
                ctx.org(),
                diff(&audited_rules(&before), &audited_rules(&rules)),
            )
            .await?;
            Ok(RetentionPolicy {
                organization_id: ctx.org(),
                rules,
                updated_at: Some(m.at()),
                revision,
            })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), dry_run))]
    async fn purge_retention(
        &self,
        ctx: &Ctx,
        now: DateTime<Utc>,
        batch: PurgeBatch,
        dry_run: bool,
    ) -> RepoResult<RetentionReport> {
        self.purge(ctx, now, batch, dry_run).await
    }

    async fn organizations_with_retention_policy(&self) -> RepoResult<Vec<OrganizationId>> {
        let named = RetentionTarget::ALL
            .into_iter()
            .fold(Condition::any(), |any, target| {
                any.add(column(target).is_not_null())
            });
        let organizations: Vec<Uuid> = retention_policies::Entity::find()
            .select_only()
            .column(Column::OrganizationId)
            .filter(named)
            .order_by_asc(Column::OrganizationId)
            .into_tuple()
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        Ok(organizations
            .into_iter()
            .map(OrganizationId::from_uuid)
            .collect())
    }
}

/// The audit row of a purge: the rows it deleted per target.
pub(super) fn audited_report(report: &RetentionReport) -> Value {
    let deleted: serde_json::Map<String, Value> = report
        .purged
        .iter()
        .map(|purged| (purged.target.as_str().to_owned(), Value::from(purged.rows)))
        .collect();
    serde_json::json!({ "deleted": deleted })
}
