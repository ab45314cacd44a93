use orchestore_domain::{
    Capabilities, Description, Metadata, NewTask, OrganizationId, Payload, Priority, ProjectId,
    Task, TaskId, TaskPatch, TaskStatus, Title,
};
use orchestore_repo::{
    Ctx, Cursor, Page, PageRequest, RepoError, RepoResult, SortOrder, TaskFilter, TaskRepo,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Select, Set,
};

use super::{Lock, keyset, scoped, string_array};
use crate::SeaStore;
use crate::audit;
use crate::entities::tasks;
use crate::error::{corrupt, db_err, is_foreign_key_violation};
use crate::store::{commit, now};

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

/// Keyset pagination by priority, highest first, then oldest: rows after the cursor's
/// `(priority, id)`.
fn by_priority(
    query: Select<tasks::Entity>,
    page: PageRequest,
) -> RepoResult<Select<tasks::Entity>> {
    use tasks::Column::{Id, Priority as Prio};
    let query = match page.after {
        Some(cursor) => {
            cursor.check_order(page.order)?;
            let priority = cursor.priority();
            // `priority <= p` lets the (organization, priority desc, id) index start at the
            // cursor instead of at the top.
            query.filter(Prio.lte(priority)).filter(
                Condition::any().add(Prio.lt(priority)).add(
                    Condition::all()
                        .add(Prio.eq(priority))
                        .add(Id.gt(cursor.id())),
                ),
            )
        }
        None => query,
    };
    Ok(query
        .order_by_desc(Prio)
        .order_by_asc(Id)
        .limit(u64::from(page.limit.get()) + 1))
}

#[async_trait::async_trait]
impl TaskRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), project = %new.project_id))]
    async fn create_task(&self, ctx: &Ctx, new: NewTask) -> RepoResult<Task> {
        let at = now();
        let txn = self.write().await?;
        let row = tasks::ActiveModel {
            id: Set(TaskId::new().as_uuid()),
            organization_id: Set(ctx.org().as_uuid()),
            project_id: Set(new.project_id.as_uuid()),
            title: Set(new.title.into_string()),
            description: Set(new.description.into_string()),
            status: Set(TaskStatus::Queued.as_str().to_owned()),
            priority: Set(new.priority.get()),
            payload: Set(new.payload.into_value()),
            required_capabilities: Set(serde_json::json!(new.required_capabilities.to_strings())),
            metadata: Set(new.metadata.to_value()),
            created_at: Set(at),
            updated_at: Set(at),
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            // The foreign key (organization_id, project_id) → projects holds the project to
            // this organization: another tenant's project is as missing as no project.
            if is_foreign_key_violation(&e) {
                RepoError::not_found("project", new.project_id)
            } else {
                db_err(e)
            }
        })?;
        let task = to_task(row)?;
        audit::record(
            &txn,
            ctx,
            "task.create",
            "task",
            task.id,
            audit::snapshot(&task),
            at,
        )
        .await?;
        commit(txn).await?;
        Ok(task)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %id))]
    async fn get_task(&self, ctx: &Ctx, id: TaskId) -> RepoResult<Task> {
        self.find_scoped::<tasks::Entity>(self.db(), ctx, id, Lock::None)
            .await
            .and_then(to_task)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_tasks(
        &self,
        ctx: &Ctx,
        filter: TaskFilter,
        page: PageRequest,
    ) -> RepoResult<Page<Task>> {
        let mut query = scoped::<tasks::Entity>(ctx);
        if let Some(project) = filter.project_id {
            query = query.filter(tasks::Column::ProjectId.eq(project.as_uuid()));
        }
        if let Some(status) = filter.status {
            query = query.filter(tasks::Column::Status.eq(status.as_str()));
        }
        let order = page.order;
        let query = match order {
            SortOrder::PriorityFirst => by_priority(query, page)?,
            _ => keyset(query, tasks::Column::Id, page)?,
        };
        let rows = query.all(self.db()).await.map_err(db_err)?;
        let tasks = rows
            .into_iter()
            .map(to_task)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(tasks, page.limit, |t| match order {
            SortOrder::PriorityFirst => Cursor::after_priority(t.priority.get(), t.id),
            _ => Cursor::after(order, t.id),
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %id))]
    async fn update_task(&self, ctx: &Ctx, id: TaskId, patch: TaskPatch) -> RepoResult<Task> {
        let at = now();
        let txn = self.write().await?;
        let row = self
            .find_scoped::<tasks::Entity>(&txn, ctx, id, Lock::ForUpdate)
            .await?;
        let before = to_task(row.clone())?;
        patch.check_against(before.status)?;
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
        update.updated_at = Set(at);
        let after = to_task(update.update(&txn).await.map_err(db_err)?)?;
        let action = match (before.status, after.status) {
            (from, to) if from != to => format!("task.status.{to}"),
            _ => "task.update".to_owned(),
        };
        audit::record(
            &txn,
            ctx,
            &action,
            "task",
            id,
            audit::diff(&before, &after),
            at,
        )
        .await?;
        commit(txn).await?;
        Ok(after)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), task = %id))]
    async fn delete_task(&self, ctx: &Ctx, id: TaskId) -> RepoResult<()> {
        let at = now();
        let txn = self.write().await?;
        let task = to_task(
            self.find_scoped::<tasks::Entity>(&txn, ctx, id, Lock::ForUpdate)
                .await?,
        )?;
        tasks::Entity::delete_by_id(id.as_uuid())
            .exec(&txn)
            .await
            .map_err(db_err)?;
        audit::record(
            &txn,
            ctx,
            "task.delete",
            "task",
            id,
            audit::snapshot(&task),
            at,
        )
        .await?;
        commit(txn).await
    }
}
