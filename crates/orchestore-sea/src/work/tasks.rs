use orchestore_domain::{
    Capabilities, Description, Metadata, NewTask, OrganizationId, Payload, Priority, ProjectId,
    Task, TaskId, TaskPatch, TaskStatus, Title,
};
use orchestore_repo::{
    Ctx, Cursor, Page, PageRequest, RepoError, RepoResult, TaskFilter, TaskRepo, TaskSort,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, IntoActiveModel, QueryFilter, Set};

use super::entity::tasks;
use crate::SeaStore;
use crate::error::{corrupt, db_err, is_foreign_key_violation};
use crate::messaging::{about_task, count_messages};
use crate::mutation::{Verb, diff, snapshot};
use crate::scoped::{Keyset, Lock, delete_scoped, keyset_page, scoped, string_array};

pub(crate) fn to_task(row: tasks::Model) -> RepoResult<Task> {
    let bad = |e: String| corrupt("task", e);
    let capabilities = string_array(&row.required_capabilities)
        .ok_or_else(|| bad("required_capabilities is not an array of strings".into()))?;
    Ok(Task {
        id: TaskId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        project_id: ProjectId::from_uuid(row.project_id),
        title: Title::parse(&row.title).map_err(|e| bad(e.to_string()))?,
        description: Description::parse("description", &row.description)
            .map_err(|e| bad(e.to_string()))?,
        status: row
            .status
            .parse()
            .map_err(|e: orchestore_domain::DomainError| bad(e.to_string()))?,
        priority: Priority::parse(i64::from(row.priority)).map_err(|e| bad(e.to_string()))?,
        payload: Payload::parse(row.payload).map_err(|e| bad(e.to_string()))?,
        required_capabilities: Capabilities::parse(&capabilities)
            .map_err(|e| bad(e.to_string()))?,
        metadata: Metadata::parse("metadata", row.metadata).map_err(|e| bad(e.to_string()))?,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

#[async_trait::async_trait]
impl TaskRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), project = %new.project_id))]
    async fn create_task(&self, ctx: &Ctx, new: NewTask) -> RepoResult<Task> {
        self.mutate(ctx, async |m| {
            let project_id = new.project_id;
            let row = tasks::ActiveModel {
                id: Set(TaskId::new().as_uuid()),
                organization_id: Set(ctx.org().as_uuid()),
                project_id: Set(project_id.as_uuid()),
                title: Set(new.title.into_string()),
                description: Set(new.description.into_string()),
                status: Set(TaskStatus::Queued.as_str().to_owned()),
                priority: Set(new.priority.get()),
                payload: Set(new.payload.into_value()),
                required_capabilities: Set(serde_json::json!(
                    new.required_capabilities.to_strings()
                )),
                metadata: Set(new.metadata.to_value()),
                created_at: Set(m.at()),
                updated_at: Set(m.at()),
            }
            .insert(m.txn())
            .await
            .map_err(|e| {
                // The foreign key (organization_id, project_id) → projects holds the project
                // to this organization: another tenant's project is as missing as no project.
                if is_foreign_key_violation(&e) {
                    RepoError::reference("project_id", "project", project_id)
                } else {
                    db_err(e)
                }
            })?;
            let task = to_task(row)?;
            m.audit::<tasks::Entity>(Verb::Create, task.id, snapshot(&task))
                .await?;
            Ok(task)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %id))]
    async fn get_task(&self, ctx: &Ctx, id: TaskId) -> RepoResult<Task> {
        self.find_scoped::<tasks::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_task)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_tasks(
        &self,
        ctx: &Ctx,
        filter: TaskFilter,
        page: PageRequest<TaskSort>,
    ) -> RepoResult<Page<Task, TaskSort>> {
        let mut query = scoped::<tasks::Entity>(ctx);
        if let Some(project) = filter.project_id {
            query = query.filter(tasks::Column::ProjectId.eq(project.as_uuid()));
        }
        if let Some(status) = filter.status {
            query = query.filter(tasks::Column::Status.eq(status.as_str()));
        }
        let sort = page.sort();
        let keyset = match sort {
            TaskSort::CreatedAt => Keyset::OldestFirst,
            TaskSort::CreatedAtDesc => Keyset::NewestFirst,
            TaskSort::PriorityDesc => Keyset::IntDesc(tasks::Column::Priority),
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let tasks = rows
            .into_iter()
            .map(to_task)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(tasks, &page, |t| match sort {
            TaskSort::PriorityDesc => Cursor::after_key(sort, i64::from(t.priority.get()), t.id),
            _ => Cursor::after(sort, t.id),
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %id))]
    async fn update_task(&self, ctx: &Ctx, id: TaskId, patch: TaskPatch) -> RepoResult<Task> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<tasks::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let before = to_task(row.clone())?;
            // A status equal to the current one is no change: dropped, so that it writes
            // nothing and no empty audit row.
            let patch = patch.normalised(before.status)?;
            if patch.is_empty() {
                return Ok(before);
            }
            let mut update = row.into_active_model();
            if let Some(title) = patch.title {
                update.title = Set(title.into_string());
            }
            if let Some(description) = patch.description {
                update.description = Set(description.into_string());
            }
            if let Some(status) = patch.status {
                update.status = Set(status.as_str().to_owned());
            }
            if let Some(priority) = patch.priority {
                update.priority = Set(priority.get());
            }
            if let Some(payload) = patch.payload {
                update.payload = Set(payload.into_value());
            }
            if let Some(capabilities) = patch.required_capabilities {
                update.required_capabilities = Set(serde_json::json!(capabilities.to_strings()));
            }
            if let Some(metadata) = patch.metadata {
                update.metadata = Set(metadata.to_value());
            }
            update.updated_at = Set(m.at());
            let after = to_task(update.update(m.txn()).await.map_err(db_err)?)?;
            let verb = if before.status == after.status {
                Verb::Update
            } else {
                Verb::Status(after.status.as_str())
            };
            m.audit::<tasks::Entity>(verb, id, diff(&before, &after))
                .await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %id))]
    async fn delete_task(&self, ctx: &Ctx, id: TaskId) -> RepoResult<()> {
        self.mutate(ctx, async |m| {
            let task = to_task(
                self.find_scoped::<tasks::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                    .await?,
            )?;
            // The messages about it go with it (ON DELETE CASCADE); the audit row counts them.
            let deleted_message_count = count_messages(m.txn(), ctx, about_task(id)).await?;
            delete_scoped::<tasks::Entity>(m.txn(), ctx, id).await?;
            let mut changes = snapshot(&task);
            if let Some(object) = changes.as_object_mut() {
                object.insert("deleted_message_count".into(), deleted_message_count.into());
            }
            m.audit::<tasks::Entity>(Verb::Delete, id, changes).await
        })
        .await
    }
}
