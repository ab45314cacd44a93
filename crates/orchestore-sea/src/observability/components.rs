use orchestore_domain::{
    Communication, Component, ComponentHealth, ComponentId, ComponentKind, ComponentPatch,
    ComponentVersion, Endpoint, HealthCheck, Metadata, Name, NewCommunication, NewComponent,
    NewHealthCheck, OrganizationId, Records, Revision,
};
use orchestore_repo::{
    CommunicationFilter, CommunicationSort, ComponentFilter, ComponentRepo, ComponentSort, Ctx,
    Cursor, HealthFilter, HealthSort, Page, PageRequest, RepoError, RepoResult,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, IntoActiveModel, QueryFilter, Select, Set};

use super::code;
use super::entity::components;
use crate::SeaStore;
use crate::error::{corrupt, db_err, is_unique_violation};
use crate::mutation::{Verb, diff, snapshot};
use crate::revision::{expect_revision, to_revision, update_revised};
use crate::scoped::{Keyset, Lock, keyset_page, scoped};

pub(super) fn to_component(row: components::Model) -> RepoResult<Component> {
    let bad = |e: orchestore_domain::DomainError| corrupt("component", e);
    Ok(Component {
        id: ComponentId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        name: Name::parse("name", &row.name).map_err(bad)?,
        kind: ComponentKind::parse(&row.kind).map_err(bad)?,
        version: row
            .version
            .as_deref()
            .map(ComponentVersion::parse)
            .transpose()
            .map_err(bad)?,
        endpoint: row
            .endpoint
            .as_deref()
            .map(Endpoint::parse)
            .transpose()
            .map_err(bad)?,
        status: code("component", &row.status)?,
        metadata: Metadata::parse("metadata", row.metadata).map_err(bad)?,
        created_at: row.created_at,
        updated_at: row.updated_at,
        revision: to_revision("component", row.revision)?,
    })
}

fn name_taken(name: &Name) -> RepoError {
    RepoError::taken(
        "component",
        "name",
        format!("a component named {name:?} already exists (names compare ignoring case)"),
    )
}

fn unique_name(name: &Name) -> impl Fn(sea_orm::DbErr) -> RepoError + '_ {
    move |e| {
        if is_unique_violation(&e) {
            name_taken(name)
        } else {
            db_err(e)
        }
    }
}

/// The organization's components matching `filter`, one page in `page`'s order.
pub(super) fn component_page(
    ctx: &Ctx,
    filter: &ComponentFilter,
    page: &PageRequest<ComponentSort>,
    postgres: bool,
) -> RepoResult<Select<components::Entity>> {
    let mut query = scoped::<components::Entity>(ctx);
    if let Some(kind) = &filter.kind {
        query = query.filter(components::Column::Kind.eq(kind.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(components::Column::Status.eq(status.as_str()));
    }
    let keyset = match page.sort() {
        ComponentSort::Name => Keyset::TextAsc {
            column: components::Column::Name,
            postgres,
        },
        ComponentSort::CreatedAt => Keyset::OldestFirst,
    };
    keyset_page(query, page, keyset)
}

pub(super) fn component_cursor(
    sort: ComponentSort,
    component: &Component,
) -> Cursor<ComponentSort> {
    match sort {
        ComponentSort::Name => Cursor::after_text(sort, component.name.as_str(), component.id),
        ComponentSort::CreatedAt => Cursor::after(sort, component.id),
    }
}

#[async_trait::async_trait]
impl ComponentRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_component(&self, ctx: &Ctx, new: NewComponent) -> RepoResult<Component> {
        self.mutate(ctx, async |m| {
            let row = components::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(ComponentId::new().as_uuid()),
                name: Set(new.name.as_str().to_owned()),
                name_key: Set(new.name.key()),
                kind: Set(new.kind.as_str().to_owned()),
                version: Set(new.version.as_ref().map(|v| v.as_str().to_owned())),
                endpoint: Set(new.endpoint.as_ref().map(|e| e.as_str().to_owned())),
                status: Set(new.status.as_str().to_owned()),
                metadata: Set(new.metadata.to_value()),
                created_at: Set(m.at()),
                updated_at: Set(m.at()),
                revision: Set(Revision::FIRST.get()),
            }
            .insert(m.txn())
            .await
            .map_err(unique_name(&new.name))?;
            let component = to_component(row)?;
            m.audit::<components::Entity>(Verb::Create, component.id, snapshot(&component))
                .await?;
            Ok(component)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), component = %id))]
    async fn get_component(&self, ctx: &Ctx, id: ComponentId) -> RepoResult<Component> {
        self.find_scoped::<components::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_component)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_components(
        &self,
        ctx: &Ctx,
        filter: ComponentFilter,
        page: PageRequest<ComponentSort>,
    ) -> RepoResult<Page<Component, ComponentSort>> {
        let rows = component_page(ctx, &filter, &page, self.is_postgres())?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let components = rows
            .into_iter()
            .map(to_component)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(components, &page, |c| {
            component_cursor(page.sort(), c)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), component = %id))]
    async fn update_component(
        &self,
        ctx: &Ctx,
        id: ComponentId,
        patch: ComponentPatch,
        expected: Option<Revision>,
    ) -> RepoResult<Component> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<components::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let read = row.revision;
            expect_revision::<components::Entity>(id, read, expected)?;
            let before = to_component(row.clone())?;
            if patch.is_empty() {
                return Ok(before);
            }
            let mut update = row.into_active_model();
            if let Some(name) = &patch.name {
                update.name = Set(name.as_str().to_owned());
                update.name_key = Set(name.key());
            }
            if let Some(kind) = &patch.kind {
                update.kind = Set(kind.as_str().to_owned());
            }
            if let Some(version) = &patch.version {
                update.version = Set(version.as_ref().map(|v| v.as_str().to_owned()));
            }
            if let Some(endpoint) = &patch.endpoint {
                update.endpoint = Set(endpoint.as_ref().map(|e| e.as_str().to_owned()));
            }
            if let Some(status) = patch.status {
                update.status = Set(status.as_str().to_owned());
            }
            if let Some(metadata) = &patch.metadata {
                update.metadata = Set(metadata.to_value());
            }
            update.updated_at = Set(m.at());
            let taken_name = patch.name.clone().unwrap_or_else(|| before.name.clone());
            let after = to_component(
                update_revised(
                    m.txn(),
                    id,
                    update,
                    read,
                    expected,
                    unique_name(&taken_name),
                )
                .await?,
            )?;
            let changes = diff(&before, &after);
            if changes.as_object().is_some_and(|c| !c.is_empty()) {
                m.audit::<components::Entity>(Verb::Update, id, changes)
                    .await?;
            }
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), communications = communications.len()))]
    async fn record_communications(
        &self,
        ctx: &Ctx,
        communications: Records<NewCommunication>,
    ) -> RepoResult<Vec<Communication>> {
        self.record_communications_in(ctx, communications).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_communications(
        &self,
        ctx: &Ctx,
        filter: CommunicationFilter,
        page: PageRequest<CommunicationSort>,
    ) -> RepoResult<Page<Communication, CommunicationSort>> {
        self.list_communications_in(ctx, filter, page).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), component = %id))]
    async fn record_health(
        &self,
        ctx: &Ctx,
        id: ComponentId,
        check: NewHealthCheck,
    ) -> RepoResult<HealthCheck> {
        self.record_health_in(ctx, id, check).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), component = %id))]
    async fn list_health(
        &self,
        ctx: &Ctx,
        id: ComponentId,
        filter: HealthFilter,
        page: PageRequest<HealthSort>,
    ) -> RepoResult<Page<HealthCheck, HealthSort>> {
        self.list_health_in(ctx, id, filter, page).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn latest_health(
        &self,
        ctx: &Ctx,
        filter: ComponentFilter,
        page: PageRequest<ComponentSort>,
    ) -> RepoResult<Page<ComponentHealth, ComponentSort>> {
        self.latest_health_in(ctx, filter, page).await
    }
}
