use orchestore_domain::{
    DomainError, Instantiated, Metadata, Name, NewTemplate, OrganizationId, ProjectId, Revision,
    Task, Template, TemplateBody, TemplateId, TemplateKind, TemplateParameters, TemplatePatch,
    TemplateUsage, TemplateUsageId, WorkflowId, WorkflowVersion, WorkflowVersionRef,
};
use orchestore_repo::{
    Ctx, Cursor, Page, PageRequest, RepoError, RepoResult, TaskRepo, TemplateFilter, TemplateRepo,
    TemplateSort, TemplateUsageSort, WorkflowRepo, WorkflowTarget,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set,
};
use serde_json::{Map, Value};

use super::entity::{template_usages, templates};
use crate::SeaStore;
use crate::error::{corrupt, db_err, is_foreign_key_violation, is_unique_violation};
use crate::mutation::{Verb, diff, snapshot};
use crate::revision::{Revised, delete_revised, expect_revision, to_revision, update_revised};
use crate::scoped::{Keyset, Lock, keyset_page, scoped, string_array};
use crate::workflows::version_number;

fn to_template(row: templates::Model) -> RepoResult<Template> {
    let bad = |e: DomainError| corrupt("template", e);
    let kind: TemplateKind = row.kind.parse().map_err(bad)?;
    let parameters = TemplateParameters::from_json(row.parameters).map_err(bad)?;
    let body = TemplateBody::parse(kind, &parameters, row.body).map_err(bad)?;
    Ok(Template {
        id: TemplateId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        name: Name::parse("name", &row.name).map_err(bad)?,
        description: orchestore_domain::Description::parse("description", &row.description)
            .map_err(bad)?,
        kind,
        parameters,
        body,
        usage_count: u64::try_from(row.usage_count).map_err(|e| corrupt("template", e))?,
        created_at: row.created_at,
        updated_at: row.updated_at,
        revision: to_revision("template", row.revision)?,
    })
}

fn to_usage(row: template_usages::Model) -> RepoResult<TemplateUsage> {
    let bad = |e: String| corrupt("template_usage", e);
    Ok(TemplateUsage {
        id: TemplateUsageId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        template_id: TemplateId::from_uuid(row.template_id),
        arguments: Metadata::parse("arguments", row.arguments).map_err(|e| bad(e.to_string()))?,
        created_by: row.created_by,
        created_entities: string_array(&row.created_entities)
            .ok_or_else(|| bad("created_entities is not an array of strings".into()))?,
        workflow_version: match (row.workflow_id, row.workflow_version) {
            (None, None) => None,
            (Some(workflow), Some(number)) => Some(WorkflowVersionRef {
                workflow_id: WorkflowId::from_uuid(workflow),
                version: version_number(number).map_err(bad)?,
            }),
            _ => {
                return Err(bad(
                    "workflow_id and workflow_version are not set together".into()
                ));
            }
        },
        created_at: row.created_at,
    })
}

/// `template` filled in with `arguments`, once it is known to be of `kind`: the arguments of
/// a template of the other kind are not worth checking.
fn fill_in(
    template: &Template,
    kind: TemplateKind,
    arguments: &Map<String, Value>,
) -> RepoResult<Instantiated> {
    if template.kind != kind {
        return Err(wrong_kind(template));
    }
    Ok(template.instantiate(arguments)?)
}

fn wrong_kind(template: &Template) -> RepoError {
    let yields = match template.kind {
        TemplateKind::Task => "workflow version",
        TemplateKind::Workflow => "tasks",
    };
    RepoError::Invalid(DomainError::invalid(
        "template",
        format!(
            "{} is a {} template: it yields no {yields}",
            template.name, template.kind
        ),
    ))
}

fn name_taken(name: &Name) -> RepoError {
    RepoError::taken(
        "template",
        "name",
        format!("a template named {name:?} already exists (names compare ignoring case)"),
    )
}

fn parameters_value(parameters: &TemplateParameters) -> RepoResult<Value> {
    serde_json::to_value(parameters).map_err(RepoError::internal)
}

#[async_trait::async_trait]
impl TemplateRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_template(&self, ctx: &Ctx, new: NewTemplate) -> RepoResult<Template> {
        let parameters = parameters_value(&new.parameters)?;
        self.mutate(ctx, async |m| {
            let row = templates::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(TemplateId::new().as_uuid()),
                name: Set(new.name.as_str().to_owned()),
                name_key: Set(new.name.key()),
                description: Set(new.description.as_str().to_owned()),
                kind: Set(new.kind.as_str().to_owned()),
                parameters: Set(parameters),
                body: Set(new.body.as_value().clone()),
                usage_count: Set(0),
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
            let template = to_template(row)?;
            m.audit::<templates::Entity>(Verb::Create, template.id, snapshot(&template))
                .await?;
            Ok(template)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), template = %id))]
    async fn get_template(&self, ctx: &Ctx, id: TemplateId) -> RepoResult<Template> {
        self.find_scoped::<templates::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_template)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_templates(
        &self,
        ctx: &Ctx,
        filter: TemplateFilter,
        page: PageRequest<TemplateSort>,
    ) -> RepoResult<Page<Template, TemplateSort>> {
        let mut query = scoped::<templates::Entity>(ctx);
        if let Some(kind) = filter.kind {
            query = query.filter(templates::Column::Kind.eq(kind.as_str()));
        }
        let keyset = match page.sort() {
            TemplateSort::CreatedAt => Keyset::OldestFirst,
            TemplateSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let templates = rows
            .into_iter()
            .map(to_template)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(templates, &page, |t| {
            Cursor::after(page.sort(), t.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), template = %id))]
    async fn update_template(
        &self,
        ctx: &Ctx,
        id: TemplateId,
        patch: TemplatePatch,
        expected: Option<Revision>,
    ) -> RepoResult<Template> {
        let parameters = patch
            .parameters
            .as_ref()
            .map(parameters_value)
            .transpose()?;
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<templates::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let read = row.revision;
            expect_revision::<templates::Entity>(id, read, expected)?;
            let before = to_template(row.clone())?;
            if patch.is_empty() {
                return Ok(before);
            }
            // The body and the parameters must still agree after the patch.
            patch.check_against(&before)?;
            let mut update = row.into_active_model();
            if let Some(name) = &patch.name {
                update.name = Set(name.as_str().to_owned());
                update.name_key = Set(name.key());
            }
            if let Some(description) = &patch.description {
                update.description = Set(description.as_str().to_owned());
            }
            if let Some(parameters) = parameters {
                update.parameters = Set(parameters);
            }
            if let Some(body) = &patch.body {
                update.body = Set(body.as_value().clone());
            }
            update.updated_at = Set(m.at());
            let row = update_revised(m.txn(), id, update, read, expected, |e| {
                match (&patch.name, is_unique_violation(&e)) {
                    (Some(name), true) => name_taken(name),
                    _ => db_err(e),
                }
            })
            .await?;
            let after = to_template(row)?;
            m.audit::<templates::Entity>(Verb::Update, id, diff(&before, &after))
                .await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), template = %id))]
    async fn delete_template(
        &self,
        ctx: &Ctx,
        id: TemplateId,
        expected: Option<Revision>,
    ) -> RepoResult<()> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<templates::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let read = row.revision;
            expect_revision::<templates::Entity>(id, read, expected)?;
            let template = to_template(row)?;
            // Its usage history goes with it (ON DELETE CASCADE); what it created stays.
            let deleted_usages = scoped::<template_usages::Entity>(ctx)
                .filter(template_usages::Column::TemplateId.eq(id.as_uuid()))
                .count(m.txn())
                .await
                .map_err(db_err)?;
            delete_revised::<templates::Entity>(m.txn(), ctx, id, read, expected).await?;
            let mut changes = snapshot(&template);
            if let Some(object) = changes.as_object_mut() {
                object.insert("deleted_usage_count".into(), deleted_usages.into());
            }
            m.audit::<templates::Entity>(Verb::Delete, id, changes)
                .await
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), template = %id, project = %project))]
    async fn instantiate_task_template(
        &self,
        ctx: &Ctx,
        id: TemplateId,
        project: ProjectId,
        arguments: Map<String, Value>,
    ) -> RepoResult<(TemplateUsage, Vec<Task>)> {
        // The tasks, the usage row and the count in one transaction: each task is created
        // as any other (with its own audit row), then the usage is recorded.
        self.in_transaction(async move |tx| {
            let template = tx.get_template(ctx, id).await?;
            let Instantiated::Tasks(specs) = fill_in(&template, TemplateKind::Task, &arguments)?
            else {
                return Err(wrong_kind(&template));
            };
            let mut tasks = Vec::with_capacity(specs.len());
            for spec in specs {
                tasks.push(tx.create_task(ctx, spec.into_new_task(project)).await?);
            }
            let created: Vec<String> = tasks.iter().map(|task| task.id.to_string()).collect();
            let usage = tx
                .record_usage(ctx, &template, arguments, created, None)
                .await?;
            Ok((usage, tasks))
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), template = %id))]
    async fn instantiate_workflow_template(
        &self,
        ctx: &Ctx,
        id: TemplateId,
        target: WorkflowTarget,
        arguments: Map<String, Value>,
    ) -> RepoResult<(TemplateUsage, WorkflowVersion)> {
        // The workflow (when the target is new), the version, the usage row and the count in
        // one transaction, each written as any other (with its own audit row).
        self.in_transaction(async move |tx| {
            let template = tx.get_template(ctx, id).await?;
            let Instantiated::Workflow(definition) =
                fill_in(&template, TemplateKind::Workflow, &arguments)?
            else {
                return Err(wrong_kind(&template));
            };
            let mut created = Vec::with_capacity(2);
            let workflow = match target {
                WorkflowTarget::Existing(workflow) => workflow,
                WorkflowTarget::New(new) => {
                    // The name is a field of the target here, not of a workflow body.
                    let workflow = tx.create_workflow(ctx, new).await.map_err(|e| match e {
                        RepoError::Conflict {
                            entity,
                            field: Some("name"),
                            reason,
                        } => RepoError::Conflict {
                            entity,
                            field: Some("workflow.name"),
                            reason,
                        },
                        other => other,
                    })?;
                    created.push(workflow.id.to_string());
                    workflow.id
                }
            };
            // The workflow is an input, so a missing one is a bad reference, not a missing
            // resource: the template was found.
            let version =
                tx.create_version(ctx, workflow, definition)
                    .await
                    .map_err(|e| match e {
                        RepoError::NotFound {
                            entity: "workflow", ..
                        } => RepoError::reference("workflow_id", "workflow", workflow),
                        other => other,
                    })?;
            created.push(version.id.to_string());
            let usage = tx
                .record_usage(
                    ctx,
                    &template,
                    arguments,
                    created,
                    Some(version.reference()),
                )
                .await?;
            Ok((usage, version))
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), template = %id))]
    async fn list_template_usages(
        &self,
        ctx: &Ctx,
        id: TemplateId,
        page: PageRequest<TemplateUsageSort>,
    ) -> RepoResult<Page<TemplateUsage, TemplateUsageSort>> {
        // A template of another organization is not found rather than an empty history.
        self.find_scoped::<templates::Entity>(&self.db().await, ctx, id, Lock::None)
            .await?;
        let query = scoped::<template_usages::Entity>(ctx)
            .filter(template_usages::Column::TemplateId.eq(id.as_uuid()));
        let keyset = match page.sort() {
            TemplateUsageSort::CreatedAt => Keyset::OldestFirst,
            TemplateUsageSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let usages = rows
            .into_iter()
            .map(to_usage)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(usages, &page, |u| {
            Cursor::after(page.sort(), u.id)
        }))
    }
}

impl SeaStore {
    /// Records one use of `template`: the usage row and the count, with an audit row naming
    /// what was created (`version`: the workflow version it wrote, for a workflow template).
    async fn record_usage(
        &self,
        ctx: &Ctx,
        template: &Template,
        arguments: Map<String, Value>,
        created: Vec<String>,
        version: Option<WorkflowVersionRef>,
    ) -> RepoResult<TemplateUsage> {
        let arguments = Metadata::parse("arguments", Value::Object(arguments))?;
        let number = version
            .map(|version| i32::try_from(version.version))
            .transpose()
            .map_err(RepoError::internal)?;
        self.mutate(ctx, async |m| {
            let row = template_usages::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(TemplateUsageId::new().as_uuid()),
                template_id: Set(template.id.as_uuid()),
                arguments: Set(arguments.to_value()),
                created_by: Set(ctx.actor().to_string()),
                created_entities: Set(serde_json::json!(created)),
                workflow_id: Set(version.map(|version| version.workflow_id.as_uuid())),
                workflow_version: Set(number),
                created_at: Set(m.at()),
            }
            .insert(m.txn())
            .await
            .map_err(|e| {
                // The template was deleted since it was read (its row is not locked).
                if is_foreign_key_violation(&e) {
                    RepoError::not_found("template", template.id)
                } else {
                    db_err(e)
                }
            })?;
            let usage = to_usage(row)?;
            templates::Entity::update_many()
                .col_expr(
                    templates::Column::UsageCount,
                    Expr::col(templates::Column::UsageCount).add(1),
                )
                .col_expr(
                    templates::Column::Revision,
                    templates::Entity::next_revision(),
                )
                .filter(templates::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(templates::Column::Id.eq(template.id.as_uuid()))
                .exec(m.txn())
                .await
                .map_err(db_err)?;
            m.audit::<template_usages::Entity>(Verb::Create, usage.id, snapshot(&usage))
                .await?;
            Ok(usage)
        })
        .await
    }
}
