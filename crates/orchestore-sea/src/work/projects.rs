use orchestore_domain::{
    Description, Metadata, Name, NewProject, OrganizationId, Project, ProjectId, ProjectPatch,
    Revision, Tags,
};
use orchestore_repo::{
    Ctx, Cursor, Page, PageRequest, ProjectRepo, ProjectSort, RepoError, RepoResult,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set,
};

use super::entity::{projects, tasks};
use crate::SeaStore;
use crate::error::{corrupt, db_err, is_unique_violation};
use crate::messaging::count_messages;
use crate::messaging::entity::messages;
use crate::mutation::{Verb, diff, snapshot};
use crate::revision::{delete_revised, expect_revision, to_revision, update_revised};
use crate::scoped::{Keyset, Lock, keyset_page, scoped, string_array};

pub(crate) fn to_project(row: projects::Model) -> RepoResult<Project> {
    let bad = |e| corrupt("project", e);
    let tags =
        string_array(&row.tags).ok_or_else(|| bad("tags is not an array of strings".into()))?;
    Ok(Project {
        id: ProjectId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        name: Name::parse("name", &row.name).map_err(|e| bad(e.to_string()))?,
        description: Description::parse("description", &row.description)
            .map_err(|e| bad(e.to_string()))?,
        repository_url: row.repository_url,
        tags: Tags::parse(&tags).map_err(|e| bad(e.to_string()))?,
        settings: Metadata::parse("settings", row.settings).map_err(|e| bad(e.to_string()))?,
        created_at: row.created_at,
        updated_at: row.updated_at,
        revision: to_revision("project", row.revision)?,
    })
}

/// How many of a deleted project's task ids its audit row lists.
const AUDITED_TASK_IDS: u64 = 1000;

fn name_taken(name: &Name) -> RepoError {
    RepoError::taken(
        "project",
        "name",
        format!("a project named {name:?} already exists (names compare ignoring case)"),
    )
}

#[async_trait::async_trait]
impl ProjectRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_project(&self, ctx: &Ctx, new: NewProject) -> RepoResult<Project> {
        self.mutate(ctx, async |m| {
            let row = projects::ActiveModel {
                id: Set(ProjectId::new().as_uuid()),
                organization_id: Set(ctx.org().as_uuid()),
                name: Set(new.name.as_str().to_owned()),
                name_key: Set(new.name.key()),
                description: Set(new.description.as_str().to_owned()),
                repository_url: Set(new.repository_url.clone()),
                tags: Set(serde_json::json!(new.tags.to_strings())),
                settings: Set(new.settings.to_value()),
                created_at: Set(m.at()),
                updated_at: Set(m.at()),
                revision: Set(Revision::FIRST.get()),
            }
            .insert(m.txn())
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    name_taken(&new.name)
                } else {
                    db_err(e)
                }
            })?;
            let project = to_project(row)?;
            m.audit::<projects::Entity>(Verb::Create, project.id, snapshot(&project))
                .await?;
            Ok(project)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), project = %id))]
    async fn get_project(&self, ctx: &Ctx, id: ProjectId) -> RepoResult<Project> {
        self.find_scoped::<projects::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_project)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_projects(
        &self,
        ctx: &Ctx,
        page: PageRequest<ProjectSort>,
    ) -> RepoResult<Page<Project, ProjectSort>> {
        let keyset = match page.sort() {
            ProjectSort::CreatedAt => Keyset::OldestFirst,
            ProjectSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(scoped::<projects::Entity>(ctx), &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let projects = rows
            .into_iter()
            .map(to_project)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(projects, &page, |p| {
            Cursor::after(page.sort(), p.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), project = %id))]
    async fn update_project(
        &self,
        ctx: &Ctx,
        id: ProjectId,
        patch: ProjectPatch,
        expected: Option<Revision>,
    ) -> RepoResult<Project> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<projects::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let read = row.revision;
            expect_revision::<projects::Entity>(id, read, expected)?;
            let before = to_project(row.clone())?;
            if patch.is_empty() {
                return Ok(before);
            }
            let mut update = row.into_active_model();
            if let Some(name) = &patch.name {
                update.name = Set(name.as_str().to_owned());
                update.name_key = Set(name.key());
            }
            if let Some(description) = patch.description {
                update.description = Set(description.into_string());
            }
            if let Some(url) = patch.repository_url {
                update.repository_url = Set(url);
            }
            if let Some(tags) = patch.tags {
                update.tags = Set(serde_json::json!(tags.to_strings()));
            }
            if let Some(settings) = patch.settings {
                update.settings = Set(settings.to_value());
            }
            update.updated_at = Set(m.at());
            let row = update_revised(m.txn(), id, update, read, expected, |e| {
                match (&patch.name, is_unique_violation(&e)) {
                    (Some(name), true) => name_taken(name),
                    _ => db_err(e),
                }
            })
            .await?;
            let after = to_project(row)?;
            m.audit::<projects::Entity>(Verb::Update, id, diff(&before, &after))
                .await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), project = %id))]
    async fn delete_project(
        &self,
        ctx: &Ctx,
        id: ProjectId,
        expected: Option<Revision>,
    ) -> RepoResult<()> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<projects::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let read = row.revision;
            expect_revision::<projects::Entity>(id, read, expected)?;
            let project = to_project(row)?;
            self.refuse_deleting_running_steps(
                m,
                "project",
                Condition::all().add(tasks::Column::ProjectId.eq(id.as_uuid())),
            )
            .await?;
            // Its tasks go with it (ON DELETE CASCADE); the audit row counts them and names
            // the first ones, so that a huge project does not make a huge row.
            let tasks_of_project =
                || scoped::<tasks::Entity>(ctx).filter(tasks::Column::ProjectId.eq(id.as_uuid()));
            let deleted_task_count = tasks_of_project().count(m.txn()).await.map_err(db_err)?;
            let deleted_tasks: Vec<uuid::Uuid> = tasks_of_project()
                .select_only()
                .column(tasks::Column::Id)
                .order_by_asc(tasks::Column::Id)
                .limit(AUDITED_TASK_IDS)
                .into_tuple()
                .all(m.txn())
                .await
                .map_err(db_err)?;
            // So do the messages about those tasks.
            let deleted_message_count = count_messages(
                m.txn(),
                ctx,
                Condition::all().add(
                    messages::Column::TaskId.in_subquery(
                        tasks_of_project()
                            .select_only()
                            .column(tasks::Column::Id)
                            .into_query(),
                    ),
                ),
            )
            .await?;
            delete_revised::<projects::Entity>(m.txn(), ctx, id, read, expected).await?;
            let mut changes = snapshot(&project);
            if let Some(object) = changes.as_object_mut() {
                object.insert("deleted_task_count".into(), deleted_task_count.into());
                object.insert("deleted_tasks".into(), serde_json::json!(deleted_tasks));
                object.insert("deleted_message_count".into(), deleted_message_count.into());
            }
            m.audit::<projects::Entity>(Verb::Delete, id, changes).await
        })
        .await
    }
}
