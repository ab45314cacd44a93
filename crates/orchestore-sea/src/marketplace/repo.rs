//! `MarketplaceRepo`. Publishing and unpublishing write the context's organization's rows;
//! browsing, searching and reading an item cross organizations on purpose, through
//! [`visible`]: the published items, and the caller's own.

use orchestore_domain::{
    Description, DomainError, InstalledCopy, MarketplaceContent, MarketplaceInstall,
    MarketplaceInstallId, MarketplaceItem, MarketplaceItemId, MarketplaceKind, MarketplaceSource,
    Name, NewMarketplaceItem, NewTemplate, NewWorkflow, OrganizationId, SearchLimit, Tags,
    TemplateId, TextQuery, WorkflowId,
};
use orchestore_repo::{
    Ctx, Cursor, Installation, MarketplaceFilter, MarketplaceHit, MarketplaceInstallSort,
    MarketplaceItemSort, MarketplaceRepo, OrganizationRepo, Page, PageRequest, RepoError,
    RepoResult, TemplateRepo, WorkflowRepo,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QuerySelect, Select, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::entity::{marketplace_installs, marketplace_items};
use crate::SeaStore;
use crate::error::{corrupt, db_err, is_unique_violation};
use crate::knowledge::search::{Sql, push_tsquery};
use crate::mutation::{Verb, snapshot};
use crate::scoped::{Keyset, Lock, keyset_page, scoped, string_array};
use crate::workflows::version_number;

fn to_item(row: marketplace_items::Model, ctx: &Ctx) -> RepoResult<MarketplaceItem> {
    let bad = |e: DomainError| corrupt("marketplace_item", e);
    let kind: MarketplaceKind = row.kind.parse().map_err(bad)?;
    let tags = string_array(&row.tags)
        .ok_or_else(|| corrupt("marketplace_item", "tags is not an array of strings"))?;
    Ok(MarketplaceItem {
        id: MarketplaceItemId::from_uuid(row.id),
        name: Name::parse("name", &row.name).map_err(bad)?,
        version: version_number(row.version).map_err(|e| corrupt("marketplace_item", e))?,
        kind,
        description: Description::parse("description", &row.description).map_err(bad)?,
        tags: Tags::parse(&tags).map_err(bad)?,
        readme: Description::parse("readme", &row.readme).map_err(bad)?,
        content: MarketplaceContent::from_value(kind, row.content).map_err(bad)?,
        publisher: Name::parse("publisher", &row.publisher).map_err(bad)?,
        published_by_caller: row.organization_id == ctx.org().as_uuid(),
        published_at: row.published_at,
        unpublished_at: row.unpublished_at,
    })
}

fn to_install(row: marketplace_installs::Model) -> RepoResult<MarketplaceInstall> {
    let bad = |e: DomainError| corrupt("marketplace_install", e);
    Ok(MarketplaceInstall {
        id: MarketplaceInstallId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        item_id: MarketplaceItemId::from_uuid(row.item_id),
        item_name: Name::parse("item_name", &row.item_name).map_err(bad)?,
        item_version: version_number(row.item_version)
            .map_err(|e| corrupt("marketplace_install", e))?,
        kind: row.kind.parse().map_err(bad)?,
        workflow_id: row.workflow_id.map(WorkflowId::from_uuid),
        template_id: row.template_id.map(TemplateId::from_uuid),
        installed_by: row.installed_by,
        created_at: row.created_at,
    })
}

/// The items the context's organization may read: every published item and its own. The
/// one query of this crate that is not scoped to the organization.
fn visible(ctx: &Ctx, mine: bool) -> Select<marketplace_items::Entity> {
    let own = marketplace_items::Column::OrganizationId.eq(ctx.org().as_uuid());
    let condition = if mine {
        Condition::all().add(own)
    } else {
        Condition::any()
            .add(marketplace_items::Column::UnpublishedAt.is_null())
            .add(own)
    };
    marketplace_items::Entity::find().filter(condition)
}

/// A workflow or template the item's source names, missing in this organization: the
/// input's field is at fault.
fn source_reference(error: RepoError, field: &'static str, entity: &'static str) -> RepoError {
    match error {
        RepoError::NotFound { id, .. } => RepoError::Reference { field, entity, id },
        other => other,
    }
}

/// A name conflict of the copy, under the install's own field.
fn copy_name_taken(error: RepoError) -> RepoError {
    match error {
        RepoError::Conflict {
            entity,
            field: Some(_),
            reason,
        } => RepoError::Conflict {
            entity,
            field: Some("name"),
            reason,
        },
        other => other,
    }
}

#[async_trait::async_trait]
impl MarketplaceRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn publish_marketplace_item(
        &self,
        ctx: &Ctx,
        new: NewMarketplaceItem,
    ) -> RepoResult<MarketplaceItem> {
        let (source_name, content) = match new.source {
            MarketplaceSource::Workflow { id, version } => {
                let workflow = self
                    .get_workflow(ctx, id)
                    .await
                    .map_err(|e| source_reference(e, "workflow_id", "workflow"))?;
                let number = version.or(workflow.latest_version).ok_or_else(|| {
                    RepoError::reference("version", "workflow_version", format!("{id}/1"))
                })?;
                let version = self
                    .get_version(ctx, id, number)
                    .await
                    .map_err(|e| source_reference(e, "version", "workflow_version"))?;
                let content = MarketplaceContent::Workflow {
                    definition: version.definition,
                };
                (workflow.name, content)
            }
            MarketplaceSource::Template(id) => {
                let template = self
                    .get_template(ctx, id)
                    .await
                    .map_err(|e| source_reference(e, "template_id", "template"))?;
                let content = MarketplaceContent::Template {
                    template_kind: template.kind,
                    parameters: template.parameters,
                    body: template.body,
                };
                (template.name, content)
            }
        };
        let publisher = self.get_organization(ctx).await?.name;
        let name = new.name.unwrap_or(source_name);
        let kind = content.kind();
        self.mutate(ctx, async |m| {
            let latest: Option<Option<i32>> = scoped::<marketplace_items::Entity>(ctx)
                .select_only()
                .column_as(marketplace_items::Column::Version.max(), "latest")
                .filter(marketplace_items::Column::NameKey.eq(name.key()))
                .into_tuple()
                .one(m.txn())
                .await
                .map_err(db_err)?;
            let version = latest.flatten().unwrap_or(0).saturating_add(1);
            let row = marketplace_items::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(MarketplaceItemId::new().as_uuid()),
                name: Set(name.as_str().to_owned()),
                name_key: Set(name.key()),
                version: Set(version),
                kind: Set(kind.as_str().to_owned()),
                description: Set(new.description.as_str().to_owned()),
                tags: Set(json!(new.tags.to_strings())),
                readme: Set(new.readme.as_str().to_owned()),
                content: Set(content.to_value()),
                publisher: Set(publisher.as_str().to_owned()),
                published_by: Set(ctx.actor().to_string()),
                published_at: Set(m.at()),
                unpublished_at: Set(None),
            }
            .insert(m.txn())
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    RepoError::taken(
                        "marketplace_item",
                        "name",
                        format!("{name} was published again meanwhile: publish once more"),
                    )
                } else {
                    db_err(e)
                }
            })?;
            let item = to_item(row, ctx)?;
            m.audit::<marketplace_items::Entity>(Verb::Create, item.id, snapshot(&item))
                .await?;
            Ok(item)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_marketplace_items(
        &self,
        ctx: &Ctx,
        filter: MarketplaceFilter,
        page: PageRequest<MarketplaceItemSort>,
    ) -> RepoResult<Page<MarketplaceItem, MarketplaceItemSort>> {
        let mut query = visible(ctx, filter.mine);
        if let Some(kind) = filter.kind {
            query = query.filter(marketplace_items::Column::Kind.eq(kind.as_str()));
        }
        if let Some(tag) = &filter.tag {
            query = query.filter(if self.is_postgres() {
                Expr::cust_with_values(r#""marketplace_items"."tags" @> $1"#, [json!([tag])])
            } else {
                Expr::cust_with_values(
                    r#"EXISTS (SELECT 1 FROM json_each("marketplace_items"."tags") WHERE json_each.value = ?)"#,
                    [tag.as_str()],
                )
            });
        }
        let keyset = match page.sort() {
            MarketplaceItemSort::PublishedAtDesc => Keyset::NewestFirst,
            MarketplaceItemSort::PublishedAt => Keyset::OldestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let items = rows
            .into_iter()
            .map(|row| to_item(row, ctx))
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(items, &page, |i| {
            Cursor::after(page.sort(), i.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn search_marketplace_items(
        &self,
        ctx: &Ctx,
        query: TextQuery,
        filter: MarketplaceFilter,
        limit: SearchLimit,
    ) -> RepoResult<Vec<MarketplaceHit>> {
        let db = self.db().await;
        let postgres = self.is_postgres();
        let limit = i64::try_from(limit.get()).map_err(RepoError::internal)?;
        let mut sql = Sql::new(db.get_database_backend());
        if postgres {
            sql.push(
                "SELECT i.id AS id, ts_rank_cd(i.search_vector, q.query)::float8 AS rank \
                 FROM marketplace_items i, (SELECT ",
            );
            push_tsquery(&mut sql, &query);
            sql.push(" AS query) q WHERE i.search_vector @@ q.query");
        } else {
            sql.push(
                "SELECT i.id AS id, -bm25(marketplace_fts, 10.0, 4.0, 4.0, 1.0) AS rank \
                 FROM marketplace_fts \
                 JOIN marketplace_fts_keys k ON k.rowid = marketplace_fts.rowid \
                 JOIN marketplace_items i ON i.organization_id = k.organization_id \
                 AND i.id = k.item_id WHERE marketplace_fts MATCH ",
            )
            .bind(query.fts5_match());
        }
        if filter.mine {
            sql.push(" AND i.organization_id = ")
                .bind(ctx.org().as_uuid());
        } else {
            sql.push(" AND (i.unpublished_at IS NULL OR i.organization_id = ")
                .bind(ctx.org().as_uuid())
                .push(")");
        }
        if let Some(kind) = filter.kind {
            sql.push(" AND i.kind = ").bind(kind.as_str());
        }
        if let Some(tag) = &filter.tag {
            if postgres {
                sql.push(" AND i.tags @> ").bind(json!([tag]));
            } else {
                sql.push(" AND EXISTS (SELECT 1 FROM json_each(i.tags) WHERE json_each.value = ")
                    .bind(tag.as_str())
                    .push(")");
            }
        }
        sql.push(" ORDER BY rank DESC, i.id LIMIT ").bind(limit);
        let ranked: Vec<(Uuid, f64)> = self
            .run_text_search(&db, sql)
            .await?
            .into_iter()
            .map(|row| {
                let bad = |e: sea_orm::DbErr| corrupt("marketplace search result", e);
                Ok((
                    row.try_get("", "id").map_err(bad)?,
                    row.try_get("", "rank").map_err(bad)?,
                ))
            })
            .collect::<RepoResult<_>>()?;
        let rows = visible(ctx, filter.mine)
            .filter(marketplace_items::Column::Id.is_in(ranked.iter().map(|(id, _)| *id)))
            .all(&db)
            .await
            .map_err(db_err)?;
        let mut items: std::collections::HashMap<Uuid, marketplace_items::Model> =
            rows.into_iter().map(|row| (row.id, row)).collect();
        ranked
            .into_iter()
            .filter_map(|(id, score)| items.remove(&id).map(|row| (row, score)))
            .map(|(row, score)| {
                Ok(MarketplaceHit {
                    item: to_item(row, ctx)?,
                    score,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), item = %id))]
    async fn get_marketplace_item(
        &self,
        ctx: &Ctx,
        id: MarketplaceItemId,
    ) -> RepoResult<MarketplaceItem> {
        visible(ctx, false)
            .filter(marketplace_items::Column::Id.eq(id.as_uuid()))
            .one(&self.db().await)
            .await
            .map_err(db_err)?
            .ok_or_else(|| RepoError::not_found("marketplace_item", id))
            .and_then(|row| to_item(row, ctx))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), item = %id))]
    async fn unpublish_marketplace_item(
        &self,
        ctx: &Ctx,
        id: MarketplaceItemId,
    ) -> RepoResult<MarketplaceItem> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<marketplace_items::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            if row.unpublished_at.is_some() {
                return to_item(row, ctx);
            }
            let mut update = row.into_active_model();
            update.unpublished_at = Set(Some(m.at()));
            let item = to_item(update.update(m.txn()).await.map_err(db_err)?, ctx)?;
            m.audit::<marketplace_items::Entity>(
                Verb::Named("unpublish"),
                id,
                json!({ "name": item.name, "version": item.version }),
            )
            .await?;
            Ok(item)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), item = %id))]
    async fn install_marketplace_item(
        &self,
        ctx: &Ctx,
        id: MarketplaceItemId,
        name: Option<Name>,
    ) -> RepoResult<Installation> {
        let item = self.get_marketplace_item(ctx, id).await?;
        let name = name.unwrap_or_else(|| item.name.clone());
        // The copy is written as any workflow or template (each with its audit row), then the
        // record of where it came from, all in one transaction.
        self.in_transaction(async move |tx| {
            let copy = match &item.content {
                MarketplaceContent::Workflow { definition } => {
                    let workflow = tx
                        .create_workflow(
                            ctx,
                            NewWorkflow {
                                name,
                                description: item.description.clone(),
                            },
                        )
                        .await
                        .map_err(copy_name_taken)?;
                    let version = tx
                        .create_version(ctx, workflow.id, definition.clone())
                        .await?;
                    let workflow = tx.get_workflow(ctx, workflow.id).await?;
                    InstalledCopy::Workflow { workflow, version }
                }
                MarketplaceContent::Template {
                    template_kind,
                    parameters,
                    body,
                } => InstalledCopy::Template(
                    tx.create_template(
                        ctx,
                        NewTemplate {
                            name,
                            description: item.description.clone(),
                            kind: *template_kind,
                            parameters: parameters.clone(),
                            body: body.clone(),
                        },
                    )
                    .await
                    .map_err(copy_name_taken)?,
                ),
            };
            let (workflow_id, template_id) = match &copy {
                InstalledCopy::Workflow { workflow, .. } => (Some(workflow.id), None),
                InstalledCopy::Template(template) => (None, Some(template.id)),
            };
            let version = i32::try_from(item.version).map_err(RepoError::internal)?;
            let install = tx
                .mutate(ctx, async |m| {
                    let row = marketplace_installs::ActiveModel {
                        organization_id: Set(ctx.org().as_uuid()),
                        id: Set(MarketplaceInstallId::new().as_uuid()),
                        item_id: Set(item.id.as_uuid()),
                        item_name: Set(item.name.as_str().to_owned()),
                        item_version: Set(version),
                        kind: Set(item.kind.as_str().to_owned()),
                        workflow_id: Set(workflow_id.map(|w| w.as_uuid())),
                        template_id: Set(template_id.map(|t| t.as_uuid())),
                        installed_by: Set(ctx.actor().to_string()),
                        created_at: Set(m.at()),
                    }
                    .insert(m.txn())
                    .await
                    .map_err(db_err)?;
                    let install = to_install(row)?;
                    m.audit::<marketplace_installs::Entity>(
                        Verb::Create,
                        install.id,
                        snapshot(&install),
                    )
                    .await?;
                    Ok(install)
                })
                .await?;
            Ok(Installation { install, copy })
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_marketplace_installs(
        &self,
        ctx: &Ctx,
        page: PageRequest<MarketplaceInstallSort>,
    ) -> RepoResult<Page<MarketplaceInstall, MarketplaceInstallSort>> {
        let keyset = match page.sort() {
            MarketplaceInstallSort::CreatedAt => Keyset::OldestFirst,
            MarketplaceInstallSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(scoped::<marketplace_installs::Entity>(ctx), &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let installs = rows
            .into_iter()
            .map(to_install)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(installs, &page, |i| {
            Cursor::after(page.sort(), i.id)
        }))
    }
}
