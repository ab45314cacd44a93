use orchestore_domain::{
    Alert, AlertId, AlertMessage, AlertStatus, Fingerprint, Metadata, NewAlert, OrganizationId,
    Raised, SourceName,
};
use orchestore_repo::{
    AlertFilter, AlertRepo, AlertSort, Ctx, Cursor, Page, PageRequest, RepoError, RepoResult,
};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::json;

use super::code;
use super::entity::alerts;
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::{Verb, snapshot};
use crate::scoped::{Keyset, Lock, keyset_page, scoped};

fn to_alert(row: alerts::Model) -> RepoResult<Alert> {
    let bad = |e: String| corrupt("alert", e);
    Ok(Alert {
        id: AlertId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        severity: code("alert", &row.severity)?,
        source: SourceName::parse(&row.source).map_err(|e| bad(e.to_string()))?,
        fingerprint: Fingerprint::parse(&row.fingerprint).map_err(|e| bad(e.to_string()))?,
        message: AlertMessage::parse(&row.message).map_err(|e| bad(e.to_string()))?,
        details: Metadata::parse("details", row.details).map_err(|e| bad(e.to_string()))?,
        status: code("alert", &row.status)?,
        occurrences: u64::try_from(row.occurrences).map_err(|e| bad(e.to_string()))?,
        first_raised_at: row.first_raised_at,
        last_raised_at: row.last_raised_at,
        acknowledged_by: row.acknowledged_by,
        acknowledged_at: row.acknowledged_at,
        resolved_by: row.resolved_by,
        resolved_at: row.resolved_at,
        updated_at: row.updated_at,
    })
}

impl SeaStore {
    /// Moves alert `id` to `to`, naming the context's actor; a move the alert's status does
    /// not allow is a conflict.
    async fn move_alert(&self, ctx: &Ctx, id: AlertId, to: AlertStatus) -> RepoResult<Alert> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<alerts::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let from: AlertStatus = code("alert", &row.status)?;
            from.to(to).map_err(|_| {
                RepoError::conflict(
                    "alert",
                    format!("an alert that is {from} cannot become {to}"),
                )
            })?;
            let actor = ctx.actor().to_string();
            let mut update = row.into_active_model();
            update.status = Set(to.as_str().to_owned());
            update.updated_at = Set(m.at());
            match to {
                AlertStatus::Acknowledged => {
                    update.acknowledged_by = Set(Some(actor.clone()));
                    update.acknowledged_at = Set(Some(m.at()));
                }
                AlertStatus::Resolved => {
                    update.resolved_by = Set(Some(actor.clone()));
                    update.resolved_at = Set(Some(m.at()));
                }
                AlertStatus::Open => {}
            }
            let alert = to_alert(update.update(m.txn()).await.map_err(db_err)?)?;
            m.audit::<alerts::Entity>(
                Verb::Status(to.as_str()),
                id,
                json!({"status": {"from": from, "to": to}, "by": actor, "at": m.at()}),
            )
            .await?;
            Ok(alert)
        })
        .await
    }
}

#[async_trait::async_trait]
impl AlertRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), source = %new.source))]
    async fn raise_alert(&self, ctx: &Ctx, new: NewAlert) -> RepoResult<Raised> {
        self.mutate(ctx, async |m| {
            let id = AlertId::new();
            let row = alerts::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(id.as_uuid()),
                severity: Set(new.severity.as_str().to_owned()),
                source: Set(new.source.as_str().to_owned()),
                fingerprint: Set(new.fingerprint.as_str().to_owned()),
                message: Set(new.message.as_str().to_owned()),
                details: Set(new.details.to_value()),
                status: Set(AlertStatus::Open.as_str().to_owned()),
                occurrences: Set(1),
                first_raised_at: Set(m.at()),
                last_raised_at: Set(m.at()),
                acknowledged_by: Set(None),
                acknowledged_at: Set(None),
                resolved_by: Set(None),
                resolved_at: Set(None),
                updated_at: Set(m.at()),
            };
            // The conflict target is the partial unique index of the unresolved alerts; its
            // predicate is written out (not bound) so that PostgreSQL can match the index.
            let counted = OnConflict::columns([
                alerts::Column::OrganizationId,
                alerts::Column::Source,
                alerts::Column::Fingerprint,
            ])
            .target_and_where(Expr::cust("status <> 'resolved'"))
            .value(
                alerts::Column::Occurrences,
                Expr::col((alerts::Entity, alerts::Column::Occurrences)).add(1),
            )
            .update_columns([
                alerts::Column::LastRaisedAt,
                alerts::Column::Severity,
                alerts::Column::Message,
                alerts::Column::Details,
                alerts::Column::UpdatedAt,
            ])
            .to_owned();
            let stored = alerts::Entity::insert(row)
                .on_conflict(counted)
                .exec_with_returning(m.txn())
                .await
                .map_err(db_err)?;
            let alert = to_alert(stored)?;
            let created = alert.id == id;
            if created {
                m.audit::<alerts::Entity>(Verb::Create, alert.id, snapshot(&alert))
                    .await?;
            } else {
                m.audit::<alerts::Entity>(
                    Verb::Named("raise"),
                    alert.id,
                    json!({
                        "occurrences": alert.occurrences,
                        "severity": alert.severity,
                        "message": alert.message,
                    }),
                )
                .await?;
            }
            Ok(Raised { alert, created })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), alert = %id))]
    async fn get_alert(&self, ctx: &Ctx, id: AlertId) -> RepoResult<Alert> {
        self.find_scoped::<alerts::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_alert)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_alerts(
        &self,
        ctx: &Ctx,
        filter: AlertFilter,
        page: PageRequest<AlertSort>,
    ) -> RepoResult<Page<Alert, AlertSort>> {
        let mut query = scoped::<alerts::Entity>(ctx);
        if let Some(status) = filter.status {
            query = query.filter(alerts::Column::Status.eq(status.as_str()));
        }
        if let Some(severity) = filter.severity {
            query = query.filter(alerts::Column::Severity.eq(severity.as_str()));
        }
        if let Some(source) = &filter.source {
            query = query.filter(alerts::Column::Source.eq(source.as_str()));
        }
        // Ids are UUIDv7: id order is the order alerts were first raised.
        let keyset = match page.sort() {
            AlertSort::FirstRaisedAtDesc => Keyset::NewestFirst,
            AlertSort::FirstRaisedAt => Keyset::OldestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let alerts = rows
            .into_iter()
            .map(to_alert)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(alerts, &page, |alert| {
            Cursor::after(page.sort(), alert.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), alert = %id))]
    async fn acknowledge_alert(&self, ctx: &Ctx, id: AlertId) -> RepoResult<Alert> {
        self.move_alert(ctx, id, AlertStatus::Acknowledged).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), alert = %id))]
    async fn resolve_alert(&self, ctx: &Ctx, id: AlertId) -> RepoResult<Alert> {
        self.move_alert(ctx, id, AlertStatus::Resolved).await
    }
}
