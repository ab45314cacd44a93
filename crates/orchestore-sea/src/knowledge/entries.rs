//! `KnowledgeRepo`: entries with their vectors, and collections. The search is in
//! `search.rs`.

use std::collections::{BTreeMap, HashMap};

use orchestore_domain::{
    CollectionName, Dimension, DomainError, Embedding, EntryContent, EntrySource, EntryTitle,
    KnowledgeCollection, KnowledgeCollectionId, KnowledgeEntry, KnowledgeEntryId,
    KnowledgeEntryPatch, Metadata, NewKnowledgeCollection, NewKnowledgeEntry, OrganizationId,
    ProjectId, Revision, Tags,
};
use orchestore_repo::{
    Ctx, Cursor, KnowledgeCollectionSort, KnowledgeEntrySort, KnowledgeFilter, KnowledgeHit,
    KnowledgeRepo, KnowledgeSearch, Page, PageRequest, RepoError, RepoResult,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QuerySelect, Select, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::entity::{knowledge_collections, knowledge_embeddings, knowledge_entries};
use crate::SeaStore;
use crate::error::{corrupt, db_err, is_foreign_key_violation, is_unique_violation};
use crate::mutation::{Mutation, Verb, diff, snapshot};
use crate::revision::{delete_revised, expect_revision, to_revision, update_revised};
use crate::scoped::{Keyset, Lock, delete_scoped, keyset_page, scoped, string_array};

pub(super) fn to_entry(
    row: knowledge_entries::Model,
    embeddings: Vec<CollectionName>,
) -> RepoResult<KnowledgeEntry> {
    let bad = |e: DomainError| corrupt("knowledge_entry", e);
    let tags = string_array(&row.tags)
        .ok_or_else(|| corrupt("knowledge_entry", "tags is not an array of strings"))?;
    Ok(KnowledgeEntry {
        id: KnowledgeEntryId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        title: EntryTitle::parse(&row.title).map_err(bad)?,
        content: EntryContent::parse(&row.content).map_err(bad)?,
        tags: Tags::parse(&tags).map_err(bad)?,
        source: row
            .source
            .as_deref()
            .map(EntrySource::parse)
            .transpose()
            .map_err(bad)?,
        project_id: row.project_id.map(ProjectId::from_uuid),
        metadata: Metadata::parse("metadata", row.metadata).map_err(bad)?,
        created_by: row.created_by,
        embeddings,
        created_at: row.created_at,
        updated_at: row.updated_at,
        revision: to_revision("knowledge_entry", row.revision)?,
    })
}

fn to_collection(row: knowledge_collections::Model) -> RepoResult<KnowledgeCollection> {
    let bad = |e: DomainError| corrupt("knowledge_collection", e);
    Ok(KnowledgeCollection {
        id: KnowledgeCollectionId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        name: CollectionName::parse(&row.name).map_err(bad)?,
        dimension: Dimension::parse(i64::from(row.dimension)).map_err(bad)?,
        created_at: row.created_at,
    })
}

fn tags_value(tags: &Tags) -> serde_json::Value {
    json!(tags.to_strings())
}

/// `query` narrowed to the entries `filter` keeps; the columns are `knowledge_entries`'.
pub(super) fn filtered(
    mut query: Select<knowledge_entries::Entity>,
    filter: &KnowledgeFilter,
    postgres: bool,
) -> Select<knowledge_entries::Entity> {
    if let Some(project) = filter.project_id {
        query = query.filter(knowledge_entries::Column::ProjectId.eq(project.as_uuid()));
    }
    if let Some(source) = &filter.source {
        query = query.filter(knowledge_entries::Column::Source.eq(source.as_str()));
    }
    for tag in filter.tags.iter() {
        query = query.filter(if postgres {
            Expr::cust_with_values(r#""knowledge_entries"."tags" @> $1"#, [json!([tag])])
        } else {
            Expr::cust_with_values(
                r#"EXISTS (SELECT 1 FROM json_each("knowledge_entries"."tags") WHERE json_each.value = ?)"#,
                [tag],
            )
        });
    }
    query
}

impl SeaStore {
    /// The collections of the organization with these names; one it does not have is a
    /// `Reference` on `field`.
    pub(super) async fn collections_named(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        names: impl Iterator<Item = &CollectionName>,
        field: &'static str,
    ) -> RepoResult<HashMap<CollectionName, KnowledgeCollection>> {
        let names: Vec<&CollectionName> = names.collect();
        if names.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = scoped::<knowledge_collections::Entity>(ctx)
            .filter(knowledge_collections::Column::Name.is_in(names.iter().map(|n| n.as_str())))
            .all(db)
            .await
            .map_err(db_err)?;
        let found = rows
            .into_iter()
            .map(|row| to_collection(row).map(|c| (c.name.clone(), c)))
            .collect::<RepoResult<HashMap<_, _>>>()?;
        if let Some(missing) = names.iter().find(|name| !found.contains_key(**name)) {
            return Err(RepoError::reference(field, "knowledge_collection", missing));
        }
        Ok(found)
    }

    /// The entries of these rows, each with the names of the collections it has a vector in.
    pub(super) async fn with_embeddings(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        rows: Vec<knowledge_entries::Model>,
    ) -> RepoResult<Vec<KnowledgeEntry>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        let pairs: Vec<(Uuid, Uuid)> = knowledge_embeddings::Entity::find()
            .select_only()
            .column(knowledge_embeddings::Column::EntryId)
            .column(knowledge_embeddings::Column::CollectionId)
            .filter(knowledge_embeddings::Column::OrganizationId.eq(ctx.org().as_uuid()))
            .filter(knowledge_embeddings::Column::EntryId.is_in(ids))
            .into_tuple()
            .all(db)
            .await
            .map_err(db_err)?;
        let mut names: HashMap<Uuid, CollectionName> = HashMap::new();
        if !pairs.is_empty() {
            let collections = scoped::<knowledge_collections::Entity>(ctx)
                .filter(
                    knowledge_collections::Column::Id
                        .is_in(pairs.iter().map(|(_, collection)| *collection)),
                )
                .all(db)
                .await
                .map_err(db_err)?;
            for row in collections {
                let collection = to_collection(row)?;
                names.insert(collection.id.as_uuid(), collection.name);
            }
        }
        let mut by_entry: HashMap<Uuid, Vec<CollectionName>> = HashMap::new();
        for (entry, collection) in pairs {
            let name = names.get(&collection).cloned().ok_or_else(|| {
                corrupt("knowledge_embedding", "its collection is not the entry's")
            })?;
            by_entry.entry(entry).or_default().push(name);
        }
        rows.into_iter()
            .map(|row| {
                let mut embeddings = by_entry.remove(&row.id).unwrap_or_default();
                embeddings.sort();
                to_entry(row, embeddings)
            })
            .collect()
    }

    async fn entry_in(
        &self,
        db: &impl ConnectionTrait,
        ctx: &Ctx,
        id: KnowledgeEntryId,
        lock: Lock,
    ) -> RepoResult<KnowledgeEntry> {
        let row = self
            .find_scoped::<knowledge_entries::Entity>(db, ctx, id, lock)
            .await?;
        let mut entries = self.with_embeddings(db, ctx, vec![row]).await?;
        entries
            .pop()
            .ok_or_else(|| RepoError::not_found("knowledge_entry", id))
    }

    /// Sets (or with `None` removes) the entry's vector in each named collection, each checked
    /// against its collection's dimension.
    async fn write_embeddings(
        &self,
        m: &Mutation<'_>,
        ctx: &Ctx,
        entry: Uuid,
        embeddings: &BTreeMap<CollectionName, Option<Embedding>>,
    ) -> RepoResult<()> {
        let collections = self
            .collections_named(m.txn(), ctx, embeddings.keys(), "embeddings")
            .await?;
        for (name, vector) in embeddings {
            let collection = &collections[name];
            knowledge_embeddings::Entity::delete_many()
                .filter(knowledge_embeddings::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(knowledge_embeddings::Column::CollectionId.eq(collection.id.as_uuid()))
                .filter(knowledge_embeddings::Column::EntryId.eq(entry))
                .exec(m.txn())
                .await
                .map_err(db_err)?;
            let Some(vector) = vector else {
                continue;
            };
            if vector.dimension() != collection.dimension.get() {
                return Err(RepoError::Invalid(DomainError::invalid(
                    "embeddings",
                    format!(
                        "the vector for {name} has {} numbers, but the collection's dimension is {}",
                        vector.dimension(),
                        collection.dimension.get()
                    ),
                )));
            }
            knowledge_embeddings::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                collection_id: Set(collection.id.as_uuid()),
                entry_id: Set(entry),
                vector: Set(vector.to_bytes()),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
        }
        Ok(())
    }
}

fn project_reference(project: Option<ProjectId>, e: sea_orm::DbErr) -> RepoError {
    match project {
        Some(project) if is_foreign_key_violation(&e) => {
            RepoError::reference("project_id", "project", project)
        }
        _ => db_err(e),
    }
}

fn collection_taken(name: &CollectionName) -> RepoError {
    RepoError::taken(
        "knowledge_collection",
        "name",
        format!("a collection named {name} already exists"),
    )
}

#[async_trait::async_trait]
impl KnowledgeRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_knowledge_entry(
        &self,
        ctx: &Ctx,
        new: NewKnowledgeEntry,
    ) -> RepoResult<KnowledgeEntry> {
        let id = KnowledgeEntryId::new();
        self.mutate(ctx, async |m| {
            knowledge_entries::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(id.as_uuid()),
                title: Set(new.title.as_str().to_owned()),
                content: Set(new.content.as_str().to_owned()),
                tags: Set(tags_value(&new.tags)),
                source: Set(new.source.as_ref().map(|s| s.as_str().to_owned())),
                project_id: Set(new.project_id.map(|p| p.as_uuid())),
                metadata: Set(new.metadata.to_value()),
                created_by: Set(ctx.actor().to_string()),
                created_at: Set(m.at()),
                updated_at: Set(m.at()),
                revision: Set(Revision::FIRST.get()),
            }
            .insert(m.txn())
            .await
            .map_err(|e| project_reference(new.project_id, e))?;
            let embeddings = new
                .embeddings
                .iter()
                .map(|(name, vector)| (name.clone(), Some(vector.clone())))
                .collect();
            self.write_embeddings(m, ctx, id.as_uuid(), &embeddings)
                .await?;
            let entry = self.entry_in(m.txn(), ctx, id, Lock::None).await?;
            m.audit::<knowledge_entries::Entity>(Verb::Create, id, snapshot(&entry))
                .await?;
            Ok(entry)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), entry = %id))]
    async fn get_knowledge_entry(
        &self,
        ctx: &Ctx,
        id: KnowledgeEntryId,
    ) -> RepoResult<KnowledgeEntry> {
        self.entry_in(&self.db().await, ctx, id, Lock::None).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_knowledge_entries(
        &self,
        ctx: &Ctx,
        filter: KnowledgeFilter,
        page: PageRequest<KnowledgeEntrySort>,
    ) -> RepoResult<Page<KnowledgeEntry, KnowledgeEntrySort>> {
        let query = filtered(
            scoped::<knowledge_entries::Entity>(ctx),
            &filter,
            self.is_postgres(),
        );
        let keyset = match page.sort() {
            KnowledgeEntrySort::CreatedAt => Keyset::OldestFirst,
            KnowledgeEntrySort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let db = self.db().await;
        let rows = keyset_page(query, &page, keyset)?
            .all(&db)
            .await
            .map_err(db_err)?;
        let entries = self.with_embeddings(&db, ctx, rows).await?;
        Ok(Page::from_rows(entries, &page, |e| {
            Cursor::after(page.sort(), e.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), entry = %id))]
    async fn update_knowledge_entry(
        &self,
        ctx: &Ctx,
        id: KnowledgeEntryId,
        patch: KnowledgeEntryPatch,
        expected: Option<Revision>,
    ) -> RepoResult<KnowledgeEntry> {
        self.mutate(ctx, async |m| {
            let before = self.entry_in(m.txn(), ctx, id, Lock::ForUpdate).await?;
            let read = before.revision.get();
            expect_revision::<knowledge_entries::Entity>(id, read, expected)?;
            if patch.is_empty() {
                return Ok(before);
            }
            let row = self
                .find_scoped::<knowledge_entries::Entity>(m.txn(), ctx, id, Lock::None)
                .await?;
            let mut update = row.into_active_model();
            if let Some(title) = &patch.title {
                update.title = Set(title.as_str().to_owned());
            }
            if let Some(content) = &patch.content {
                update.content = Set(content.as_str().to_owned());
            }
            if let Some(tags) = &patch.tags {
                update.tags = Set(tags_value(tags));
            }
            if let Some(source) = &patch.source {
                update.source = Set(source.as_ref().map(|s| s.as_str().to_owned()));
            }
            if let Some(project) = patch.project_id {
                update.project_id = Set(project.map(|p| p.as_uuid()));
            }
            if let Some(metadata) = &patch.metadata {
                update.metadata = Set(metadata.to_value());
            }
            update.updated_at = Set(m.at());
            update_revised(m.txn(), id, update, read, expected, |e| {
                project_reference(patch.project_id.flatten(), e)
            })
            .await?;
            self.write_embeddings(m, ctx, id.as_uuid(), &patch.embeddings)
                .await?;
            let after = self.entry_in(m.txn(), ctx, id, Lock::None).await?;
            m.audit::<knowledge_entries::Entity>(Verb::Update, id, diff(&before, &after))
                .await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), entry = %id))]
    async fn delete_knowledge_entry(
        &self,
        ctx: &Ctx,
        id: KnowledgeEntryId,
        expected: Option<Revision>,
    ) -> RepoResult<()> {
        self.mutate(ctx, async |m| {
            let entry = self.entry_in(m.txn(), ctx, id, Lock::ForUpdate).await?;
            let read = entry.revision.get();
            expect_revision::<knowledge_entries::Entity>(id, read, expected)?;
            // Its vectors go with it (ON DELETE CASCADE), and its index rows by trigger or
            // with the row's generated column.
            delete_revised::<knowledge_entries::Entity>(m.txn(), ctx, id, read, expected).await?;
            m.audit::<knowledge_entries::Entity>(Verb::Delete, id, snapshot(&entry))
                .await
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn search_knowledge(
        &self,
        ctx: &Ctx,
        search: KnowledgeSearch,
    ) -> RepoResult<Vec<KnowledgeHit>> {
        self.search(ctx, search).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_knowledge_collection(
        &self,
        ctx: &Ctx,
        new: NewKnowledgeCollection,
    ) -> RepoResult<KnowledgeCollection> {
        let dimension = i32::try_from(new.dimension.get()).map_err(RepoError::internal)?;
        self.mutate(ctx, async |m| {
            let row = knowledge_collections::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(KnowledgeCollectionId::new().as_uuid()),
                name: Set(new.name.as_str().to_owned()),
                dimension: Set(dimension),
                created_at: Set(m.at()),
            }
            .insert(m.txn())
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    collection_taken(&new.name)
                } else {
                    db_err(e)
                }
            })?;
            let collection = to_collection(row)?;
            m.audit::<knowledge_collections::Entity>(
                Verb::Create,
                collection.id,
                snapshot(&collection),
            )
            .await?;
            Ok(collection)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), collection = %id))]
    async fn get_knowledge_collection(
        &self,
        ctx: &Ctx,
        id: KnowledgeCollectionId,
    ) -> RepoResult<KnowledgeCollection> {
        self.find_scoped::<knowledge_collections::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_collection)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_knowledge_collections(
        &self,
        ctx: &Ctx,
        page: PageRequest<KnowledgeCollectionSort>,
    ) -> RepoResult<Page<KnowledgeCollection, KnowledgeCollectionSort>> {
        let keyset = match page.sort() {
            KnowledgeCollectionSort::Name => Keyset::TextAsc {
                column: knowledge_collections::Column::Name,
                postgres: self.is_postgres(),
            },
            KnowledgeCollectionSort::CreatedAt => Keyset::OldestFirst,
        };
        let rows = keyset_page(scoped::<knowledge_collections::Entity>(ctx), &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let collections = rows
            .into_iter()
            .map(to_collection)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(collections, &page, |c| match page.sort() {
            KnowledgeCollectionSort::Name => Cursor::after_text(page.sort(), c.name.as_str(), c.id),
            KnowledgeCollectionSort::CreatedAt => Cursor::after(page.sort(), c.id),
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), collection = %id))]
    async fn delete_knowledge_collection(
        &self,
        ctx: &Ctx,
        id: KnowledgeCollectionId,
    ) -> RepoResult<()> {
        self.mutate(ctx, async |m| {
            let collection = to_collection(
                self.find_scoped::<knowledge_collections::Entity>(
                    m.txn(),
                    ctx,
                    id,
                    Lock::ForUpdate,
                )
                .await?,
            )?;
            let vectors = knowledge_embeddings::Entity::find()
                .filter(knowledge_embeddings::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(knowledge_embeddings::Column::CollectionId.eq(id.as_uuid()))
                .count(m.txn())
                .await
                .map_err(db_err)?;
            delete_scoped::<knowledge_collections::Entity>(m.txn(), ctx, id).await?;
            let mut changes = snapshot(&collection);
            if let Some(object) = changes.as_object_mut() {
                object.insert("deleted_vector_count".into(), vectors.into());
            }
            m.audit::<knowledge_collections::Entity>(Verb::Delete, id, changes)
                .await
        })
        .await
    }
}
