use std::collections::HashMap;

use orchestore_domain::{
    ComponentHealth, ComponentHealthId, ComponentId, HealthCheck, Metadata, NewHealthCheck,
    OrganizationId, ResourceUse,
};
use orchestore_repo::{
    ComponentFilter, ComponentSort, Ctx, HealthFilter, HealthSort, Page, PageRequest, RepoResult,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, QueryFilter, QueryTrait, Set};
use uuid::Uuid;

use super::components::{component_cursor, component_page, to_component};
use super::entity::{component_health as health, components};
use super::{code, stored_time, time_cursor, time_page, within};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::scoped::{Lock, scoped};

fn to_check(row: health::Model) -> RepoResult<HealthCheck> {
    let bad = |e: String| corrupt("component_health", e);
    let resources: std::collections::BTreeMap<String, f64> =
        serde_json::from_value(row.resources).map_err(|e| bad(e.to_string()))?;
    Ok(HealthCheck {
        id: ComponentHealthId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        component_id: ComponentId::from_uuid(row.component_id),
        status: code("component_health", &row.status)?,
        details: Metadata::parse("details", row.details).map_err(|e| bad(e.to_string()))?,
        resources: ResourceUse::parse(resources).map_err(|e| bad(e.to_string()))?,
        checked_at: row.checked_at,
    })
}

impl SeaStore {
    /// `ComponentRepo::record_health`: the check appended in a transaction that holds the
    /// component, without an audit row.
    pub(super) async fn record_health_in(
        &self,
        ctx: &Ctx,
        id: ComponentId,
        check: NewHealthCheck,
    ) -> RepoResult<HealthCheck> {
        self.mutate(ctx, async |m| {
            self.find_scoped::<components::Entity>(m.txn(), ctx, id, Lock::None)
                .await?;
            let row = health::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(ComponentHealthId::new().as_uuid()),
                component_id: Set(id.as_uuid()),
                status: Set(check.status.as_str().to_owned()),
                details: Set(check.details.to_value()),
                resources: Set(check.resources.to_value()),
                checked_at: Set(stored_time(check.checked_at, m.at())),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            to_check(row)
        })
        .await
    }

    pub(super) async fn list_health_in(
        &self,
        ctx: &Ctx,
        id: ComponentId,
        filter: HealthFilter,
        page: PageRequest<HealthSort>,
    ) -> RepoResult<Page<HealthCheck, HealthSort>> {
        let db = self.db().await;
        self.find_scoped::<components::Entity>(&db, ctx, id, Lock::None)
            .await?;
        let query =
            scoped::<health::Entity>(ctx).filter(health::Column::ComponentId.eq(id.as_uuid()));
        let time = health::Column::CheckedAt;
        let query = within(query, time, filter.since, filter.until);
        let newest_first = page.sort() == HealthSort::CheckedAtDesc;
        let rows = time_page(query, &page, time, newest_first)?
            .all(&db)
            .await
            .map_err(db_err)?;
        let checks = rows
            .into_iter()
            .map(to_check)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(checks, &page, |check| {
            time_cursor(page.sort(), check.checked_at, check.id)
        }))
    }

    /// A page of components, then the newest check of each in one statement: for each
    /// component of the page, a scalar subquery reads the first entry of its history index
    /// backwards (`ORDER BY checked_at DESC, id DESC LIMIT 1`), and the checks are fetched by
    /// their keys. The work grows with the page, not with the history.
    pub(super) async fn latest_health_in(
        &self,
        ctx: &Ctx,
        filter: ComponentFilter,
        page: PageRequest<ComponentSort>,
    ) -> RepoResult<Page<ComponentHealth, ComponentSort>> {
        let db = self.db().await;
        let rows = component_page(ctx, &filter, &page, self.is_postgres())?
            .all(&db)
            .await
            .map_err(db_err)?;
        let components = rows
            .into_iter()
            .map(to_component)
            .collect::<RepoResult<Vec<_>>>()?;
        let page_of = Page::from_rows(components, &page, |c| component_cursor(page.sort(), c));
        let ids: Vec<Uuid> = page_of.items.iter().map(|c| c.id.as_uuid()).collect();
        let mut latest: HashMap<Uuid, HealthCheck> = HashMap::new();
        if !ids.is_empty() {
            let checks = newest_checks(ctx, &ids).all(&db).await.map_err(db_err)?;
            for row in checks {
                let check = to_check(row)?;
                latest.insert(check.component_id.as_uuid(), check);
            }
        }
        let items = page_of
            .items
            .into_iter()
            .map(|component| ComponentHealth {
                latest: latest.remove(&component.id.as_uuid()),
                component,
            })
            .collect();
        Ok(Page {
            items,
            next_cursor: page_of.next_cursor,
        })
    }

    /// The plan of the statement that reads the newest check of each of `components`, for
    /// tests and diagnostics.
    pub async fn explain_latest_health(
        &self,
        ctx: &Ctx,
        components: &[ComponentId],
    ) -> RepoResult<String> {
        let ids: Vec<Uuid> = components.iter().map(|id| id.as_uuid()).collect();
        let select = newest_checks(ctx, &ids).into_query();
        let statement = self.db().await.get_database_backend().build(&select);
        self.explain_raw(statement).await
    }
}

/// The newest check of each of the components `ids` of the organization.
fn newest_checks(ctx: &Ctx, ids: &[Uuid]) -> sea_orm::Select<health::Entity> {
    let newest_of = Alias::new("newest_of");
    let newest = Query::select()
        .column((newest_of.clone(), health::Column::Id))
        .from_as(health::Entity, newest_of.clone())
        .and_where(
            Expr::col((newest_of.clone(), health::Column::OrganizationId))
                .equals((components::Entity, components::Column::OrganizationId)),
        )
        .and_where(
            Expr::col((newest_of.clone(), health::Column::ComponentId))
                .equals((components::Entity, components::Column::Id)),
        )
        .order_by((newest_of.clone(), health::Column::CheckedAt), Order::Desc)
        .order_by((newest_of, health::Column::Id), Order::Desc)
        .limit(1)
        .to_owned();
    let newest_ids = Query::select()
        .expr(Expr::SubQuery(None, Box::new(newest.into())))
        .from(components::Entity)
        .and_where(components::Column::OrganizationId.eq(ctx.org().as_uuid()))
        .and_where(components::Column::Id.is_in(ids.iter().copied()))
        .to_owned();
    scoped::<health::Entity>(ctx).filter(health::Column::Id.in_subquery(newest_ids))
}
