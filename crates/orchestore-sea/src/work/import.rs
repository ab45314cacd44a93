//! Importing a task list into a project (see [`orchestore_repo::TaskRepo::import_tasks`]).
//!
//! One mutation: the task graph locked (as an edge change must), the project found by name
//! or created, every task the project got from earlier imports read (locked on PostgreSQL)
//! with its edges, the plan worked out in memory, then — unless it is a dry run — the new
//! tasks inserted, the changed ones updated, their edges replaced, their history appended, the
//! tasks outside the list that waited only for a task now succeeded queued, and one
//! `project.import` audit row.
//!
//! A task's key in the store is its idempotency key `import/<project id>/<external key>`, so
//! that it is unique in the organization and found again by the next import.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use orchestore_domain::{
    ExternalKey, IdempotencyKey, ImportAction, ImportOutcome, ImportReport, ImportedStatus,
    Metadata, MissingTask, Project, ProjectId, Revision, Task, TaskId, TaskImport, TaskStatus,
};
use orchestore_repo::{Ctx, RepoError, RepoResult};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, Iterable, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::entity::{projects, task_dependencies, tasks};
use super::projects::to_project;
use super::tasks::{tags_value, to_task};
use super::transitions::Moved;
use crate::SeaStore;
use crate::error::{db_err, is_unique_violation};
use crate::mutation::{Mutation, Verb, diff, snapshot};
use crate::scoped::scoped;
use crate::work::rows_per_statement;

/// How many ids of created and updated tasks the audit row lists.
const AUDITED_IDS: usize = 1000;

/// The start of the idempotency keys of the tasks imported into `project`.
fn key_prefix(project: Uuid) -> String {
    format!("import/{project}/")
}

fn stored_key(project: Uuid, key: &ExternalKey) -> RepoResult<IdempotencyKey> {
    Ok(IdempotencyKey::parse(&format!(
        "{}{key}",
        key_prefix(project)
    ))?)
}

/// A task the project has from an earlier import.
struct Known {
    row: tasks::Model,
    task: Task,
    edges: BTreeSet<Uuid>,
}

/// What the import does with one task of the list.
struct Planned {
    id: Uuid,
    /// The status it has after the import.
    status: TaskStatus,
    parent: Option<Uuid>,
    depends_on: BTreeSet<Uuid>,
    action: ImportAction,
}

/// Why a known task in `current` is left as it is when the list would change it, if it is.
fn left_alone(current: TaskStatus) -> Option<String> {
    match current {
        TaskStatus::Running => Some("running: an agent holds it, so it is left as it is".into()),
        TaskStatus::Succeeded | TaskStatus::Cancelled => Some(format!(
            "{current} in Orchestore: a finished task does not change"
        )),
        _ => None,
    }
}

/// Merges `incoming` into `into`: objects key by key, recursively; any other value replaces.
fn merge_into(into: &mut Value, incoming: Value) {
    match (into, incoming) {
        (Value::Object(into), Value::Object(incoming)) => {
            for (key, value) in incoming {
                match into.get_mut(&key) {
                    Some(existing) => merge_into(existing, value),
                    None => {
                        into.insert(key, value);
                    }
                }
            }
        }
        (into, incoming) => *into = incoming,
    }
}

impl SeaStore {
    pub(crate) async fn import(&self, ctx: &Ctx, import: TaskImport) -> RepoResult<ImportReport> {
        import.check()?;
        self.mutate(ctx, async |m| self.import_in(m, &import).await)
            .await
    }

    async fn import_in(&self, m: &Mutation<'_>, import: &TaskImport) -> RepoResult<ImportReport> {
        self.lock_task_graph(m).await?;
        let (project, project_created, settings_updated) = self.import_project(m, import).await?;
        let project_id = project.as_uuid();
        let known = self.known_tasks(m, project_id).await?;

        // Each task's id: its known task's, or a new one.
        let keys: Vec<String> = import
            .tasks
            .iter()
            .map(|t| stored_key(project_id, &t.key).map(|k| k.as_str().to_owned()))
            .collect::<RepoResult<_>>()?;
        let ids: Vec<Uuid> = keys
            .iter()
            .map(|key| match known.get(key) {
                Some(k) => k.row.id,
                None => TaskId::new().as_uuid(),
            })
            .collect();

        // The status each task ends in: a known task that is running, finished, or failed
        // while the list has it open keeps its own; an open task is queued when every task it
        // depends on ends succeeded.
        let mut settled: Vec<Option<TaskStatus>> = Vec::with_capacity(ids.len());
        for (task, key) in import.tasks.iter().zip(&keys) {
            let current = known.get(key).map(|k| k.task.status);
            settled.push(match (current, task.status) {
                (Some(s), _) if left_alone(s).is_some() => Some(s),
                (Some(TaskStatus::Failed), ImportedStatus::Open | ImportedStatus::Held) => {
                    Some(TaskStatus::Failed)
                }
                (_, ImportedStatus::Succeeded) => Some(TaskStatus::Succeeded),
                (_, ImportedStatus::Cancelled) => Some(TaskStatus::Cancelled),
                (_, ImportedStatus::Held) => Some(TaskStatus::Blocked),
                (_, ImportedStatus::Open) => None,
            });
        }
        let wanted = |index: usize| -> TaskStatus {
            let task = &import.tasks[index];
            match task.status {
                ImportedStatus::Succeeded => TaskStatus::Succeeded,
                ImportedStatus::Cancelled => TaskStatus::Cancelled,
                ImportedStatus::Held => TaskStatus::Blocked,
                ImportedStatus::Open => {
                    let done = task
                        .depends_on
                        .iter()
                        .all(|&d| settled[d] == Some(TaskStatus::Succeeded));
                    if done {
                        TaskStatus::Queued
                    } else {
                        TaskStatus::Blocked
                    }
                }
            }
        };

        let mut plan = Vec::with_capacity(ids.len());
        for (index, task) in import.tasks.iter().enumerate() {
            let id = ids[index];
            let parent = task.parent.map(|p| ids[p]);
            let depends_on: BTreeSet<Uuid> = task.depends_on.iter().map(|&d| ids[d]).collect();
            let mut status = settled[index].unwrap_or_else(|| wanted(index));
            let action = match known.get(&keys[index]) {
                None => ImportAction::Created,
                Some(k) => {
                    let current = &k.task;
                    let same = current.title == task.title
                        && current.description == task.description
                        && current.priority == task.priority
                        && current.metadata == task.metadata
                        && current.tags == task.tags
                        && current.parent_id.map(|p| p.as_uuid()) == parent
                        && k.edges == depends_on;
                    let status_same = current.status == wanted(index);
                    match left_alone(current.status) {
                        Some(_) if same && status_same => ImportAction::Unchanged,
                        Some(reason) => ImportAction::Skipped { reason },
                        None if same && current.status == status => ImportAction::Unchanged,
                        None => ImportAction::Updated,
                    }
                }
            };
            if let (ImportAction::Skipped { .. } | ImportAction::Unchanged, Some(k)) =
                (&action, known.get(&keys[index]))
            {
                status = k.task.status;
            }
            plan.push(Planned {
                id,
                status,
                parent,
                depends_on,
                action,
            });
        }

        let listed: HashSet<&str> = keys.iter().map(String::as_str).collect();
        let prefix = key_prefix(project_id);
        let mut missing = Vec::new();
        for (key, k) in &known {
            if listed.contains(key.as_str()) {
                continue;
            }
            let Some(Ok(external)) = key.strip_prefix(&prefix).map(ExternalKey::parse) else {
                continue;
            };
            if import.scopes.iter().any(|s| external.starts_with(s)) {
                missing.push(MissingTask {
                    key: external,
                    task_id: TaskId::from_uuid(k.row.id),
                    status: k.task.status,
                });
            }
        }
        missing.sort_by(|a, b| a.key.cmp(&b.key));

        let report = ImportReport {
            project_id: project,
            project_created,
            settings_updated,
            tasks: import
                .tasks
                .iter()
                .zip(&plan)
                .map(|(task, planned)| ImportOutcome {
                    key: task.key.clone(),
                    task_id: TaskId::from_uuid(planned.id),
                    status: planned.status,
                    action: planned.action.clone(),
                })
                .collect(),
            missing,
            dry_run: import.dry_run,
        };
        let writes = project_created
            || settings_updated
            || plan
                .iter()
                .any(|p| matches!(p.action, ImportAction::Created | ImportAction::Updated));
        // A dry run, or an import of a list that is in the store already, writes nothing.
        if import.dry_run || !writes {
            return Ok(report);
        }
        self.write_import(m, import, project_id, &keys, &known, &plan)
            .await?;

        let count = |action: fn(&ImportAction) -> bool| {
            report.tasks.iter().filter(|t| action(&t.action)).count()
        };
        let ids_of = |action: fn(&ImportAction) -> bool| {
            report
                .tasks
                .iter()
                .filter(|t| action(&t.action))
                .take(AUDITED_IDS)
                .map(|t| t.task_id)
                .collect::<Vec<_>>()
        };
        let changes = json!({
            "source": import.source,
            "created_count": count(|a| matches!(a, ImportAction::Created)),
            "updated_count": count(|a| matches!(a, ImportAction::Updated)),
            "unchanged_count": count(|a| matches!(a, ImportAction::Unchanged)),
            "skipped_count": count(|a| matches!(a, ImportAction::Skipped { .. })),
            "missing_count": report.missing.len(),
            "created_task_ids": ids_of(|a| matches!(a, ImportAction::Created)),
            "updated_task_ids": ids_of(|a| matches!(a, ImportAction::Updated)),
        });
        m.audit::<projects::Entity>(Verb::Named("import"), project, changes)
            .await?;
        Ok(report)
    }

    /// The project named by the import, its settings merged; created when missing. Answers
    /// its id, whether it is new, and whether its settings changed (on a dry run, whether they
    /// would).
    async fn import_project(
        &self,
        m: &Mutation<'_>,
        import: &TaskImport,
    ) -> RepoResult<(ProjectId, bool, bool)> {
        let mut query = scoped::<projects::Entity>(m.ctx())
            .filter(projects::Column::NameKey.eq(import.project.key()));
        if self.is_postgres() {
            query = query.lock_exclusive();
        }
        let found = query.one(m.txn()).await.map_err(db_err)?;
        let Some(row) = found else {
            let id = ProjectId::new();
            if !import.dry_run {
                let row = projects::ActiveModel {
                    id: Set(id.as_uuid()),
                    organization_id: Set(m.ctx().org().as_uuid()),
                    name: Set(import.project.as_str().to_owned()),
                    name_key: Set(import.project.key()),
                    description: Set(String::new()),
                    repository_url: Set(None),
                    tags: Set(json!([])),
                    settings: Set(import.settings.to_value()),
                    created_at: Set(m.at()),
                    updated_at: Set(m.at()),
                    revision: Set(Revision::FIRST.get()),
                }
                .insert(m.txn())
                .await
                .map_err(|e| {
                    if is_unique_violation(&e) {
                        RepoError::taken(
                            "project",
                            "name",
                            "a project of this name was created meanwhile",
                        )
                    } else {
                        db_err(e)
                    }
                })?;
                let project = to_project(row)?;
                m.audit::<projects::Entity>(Verb::Create, project.id, snapshot(&project))
                    .await?;
            }
            return Ok((id, true, import.settings != Metadata::default()));
        };
        let before: Project = to_project(row.clone())?;
        let mut merged = before.settings.to_value();
        merge_into(&mut merged, import.settings.to_value());
        let settings = Metadata::parse("settings", merged)?;
        if settings == before.settings {
            return Ok((before.id, false, false));
        }
        if !import.dry_run {
            let revision = row.revision + 1;
            let mut active = row.into_active_model();
            active.settings = Set(settings.to_value());
            active.updated_at = Set(m.at());
            active.revision = Set(revision);
            let after = to_project(active.update(m.txn()).await.map_err(db_err)?)?;
            m.audit::<projects::Entity>(Verb::Update, after.id, diff(&before, &after))
                .await?;
        }
        Ok((before.id, false, true))
    }

    /// The tasks of the organization whose keys say an import into `project` made them, by key,
    /// with their edges; locked on PostgreSQL. One with such a key in another project (given by
    /// hand) is a `Conflict`.
    async fn known_tasks(
        &self,
        m: &Mutation<'_>,
        project: Uuid,
    ) -> RepoResult<BTreeMap<String, Known>> {
        let mut query = scoped::<tasks::Entity>(m.ctx())
            .filter(tasks::Column::IdempotencyKey.starts_with(key_prefix(project)))
            .order_by_asc(tasks::Column::Id);
        if self.is_postgres() {
            query = query.lock_exclusive();
        }
        let rows = query.all(m.txn()).await.map_err(db_err)?;
        let mut edges: HashMap<Uuid, BTreeSet<Uuid>> = HashMap::new();
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        for chunk in ids.chunks(super::CHUNK) {
            let found: Vec<(Uuid, Uuid)> = task_dependencies::Entity::find()
                .select_only()
                .columns([
                    task_dependencies::Column::TaskId,
                    task_dependencies::Column::DependsOnId,
                ])
                .filter(task_dependencies::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
                .filter(task_dependencies::Column::TaskId.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(m.txn())
                .await
                .map_err(db_err)?;
            for (task, depends_on) in found {
                edges.entry(task).or_default().insert(depends_on);
            }
        }
        let mut known = BTreeMap::new();
        for row in rows {
            if row.project_id != project {
                return Err(RepoError::conflict(
                    "task",
                    format!(
                        "task {} of another project holds the import key {:?}",
                        row.id,
                        row.idempotency_key.unwrap_or_default()
                    ),
                ));
            }
            let Some(key) = row.idempotency_key.clone() else {
                continue;
            };
            let task = to_task(row.clone())?;
            let edges = edges.remove(&row.id).unwrap_or_default();
            known.insert(key, Known { row, task, edges });
        }
        Ok(known)
    }

    /// Writes the plan: new tasks, updated tasks, their edges and history, and what a success
    /// releases outside the list.
    async fn write_import(
        &self,
        m: &Mutation<'_>,
        import: &TaskImport,
        project: Uuid,
        keys: &[String],
        known: &BTreeMap<String, Known>,
        plan: &[Planned],
    ) -> RepoResult<()> {
        let org = m.ctx().org().as_uuid();
        let reason = format!("imported from {}", import.source);
        let written: Vec<usize> = (0..plan.len())
            .filter(|&i| {
                matches!(
                    plan[i].action,
                    ImportAction::Created | ImportAction::Updated
                )
            })
            .collect();
        let depended_on: HashSet<Uuid> = written
            .iter()
            .flat_map(|&i| plan[i].depends_on.iter().copied())
            .collect();
        let mut moves = Vec::new();

        // New tasks, in list order: a parent comes before its subtasks.
        let mut rows = Vec::new();
        for &i in &written {
            if plan[i].action != ImportAction::Created {
                continue;
            }
            let (task, planned) = (&import.tasks[i], &plan[i]);
            rows.push(
                tasks::Model {
                    id: planned.id,
                    organization_id: org,
                    project_id: project,
                    title: task.title.as_str().to_owned(),
                    description: task.description.as_str().to_owned(),
                    status: planned.status.as_str().to_owned(),
                    priority: task.priority.get(),
                    payload: Value::Null,
                    required_capabilities: json!([]),
                    metadata: task.metadata.to_value(),
                    created_at: m.at(),
                    updated_at: m.at(),
                    parent_id: planned.parent,
                    assigned_agent_id: None,
                    estimated_minutes: None,
                    progress: 0,
                    tags: tags_value(&task.tags),
                    attempts: 0,
                    max_attempts: orchestore_domain::MaxAttempts::default().get() as i32,
                    run_after: None,
                    idempotency_key: Some(keys[i].clone()),
                    result: None,
                    error: None,
                    started_at: None,
                    finished_at: planned.status.ends_a_run().then(|| m.at()),
                    claim_assigned: false,
                    lease_token: None,
                    lease_expires_at: None,
                    has_dependents: depended_on.contains(&planned.id),
                    rate_limits: json!([]),
                    concurrency_key: None,
                    concurrency_limit: None,
                    concurrency_strategy: None,
                    fairness_key: None,
                    fairness_weight: None,
                    payload_bytes: None,
                    result_bytes: None,
                    revision: Revision::FIRST.get(),
                }
                .into_active_model()
                .reset_all(),
            );
            moves.push(Moved {
                task: planned.id,
                from: None,
                to: planned.status,
                reason: reason.clone(),
            });
        }
        let per_statement = rows_per_statement(self.is_postgres(), tasks::Column::iter().count());
        for chunk in rows.chunks(per_statement) {
            tasks::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(m.txn())
                .await
                .map_err(db_err)?;
        }

        // Known tasks that change, and the known tasks new edges point to.
        let mut succeeded = Vec::new();
        let mut rewired = Vec::new();
        for &i in &written {
            let Some(k) = known.get(&keys[i]) else {
                continue;
            };
            let (task, planned) = (&import.tasks[i], &plan[i]);
            let mut active = k.row.clone().into_active_model();
            active.title = Set(task.title.as_str().to_owned());
            active.description = Set(task.description.as_str().to_owned());
            active.priority = Set(task.priority.get());
            active.metadata = Set(task.metadata.to_value());
            active.tags = Set(tags_value(&task.tags));
            active.parent_id = Set(planned.parent);
            active.updated_at = Set(m.at());
            active.revision = Set(k.row.revision + 1);
            if planned.status != k.task.status {
                active.status = Set(planned.status.as_str().to_owned());
                active.finished_at = Set(planned.status.ends_a_run().then(|| m.at()));
                moves.push(Moved {
                    task: planned.id,
                    from: Some(k.task.status),
                    to: planned.status,
                    reason: reason.clone(),
                });
                if planned.status == TaskStatus::Succeeded {
                    succeeded.push(planned.id);
                }
            }
            active.update(m.txn()).await.map_err(db_err)?;
            if k.edges != planned.depends_on {
                rewired.push(planned.id);
            }
        }
        let known_ids: HashSet<Uuid> = known.values().map(|k| k.row.id).collect();
        let marked: BTreeSet<Uuid> = depended_on
            .iter()
            .copied()
            .filter(|id| known_ids.contains(id))
            .collect();
        self.mark_depended_on(m, &marked).await?;

        // Edges: the changed known tasks' replaced, the new tasks' added.
        for chunk in rewired.chunks(super::CHUNK) {
            task_dependencies::Entity::delete_many()
                .filter(task_dependencies::Column::OrganizationId.eq(org))
                .filter(task_dependencies::Column::TaskId.is_in(chunk.iter().copied()))
                .exec(m.txn())
                .await
                .map_err(db_err)?;
        }
        let rewired_set: HashSet<Uuid> = rewired.iter().copied().collect();
        let edges: Vec<task_dependencies::ActiveModel> = written
            .iter()
            .map(|&i| &plan[i])
            .filter(|p| p.action == ImportAction::Created || rewired_set.contains(&p.id))
            .flat_map(|p| {
                p.depends_on
                    .iter()
                    .map(move |&depends_on| task_dependencies::ActiveModel {
                        organization_id: Set(org),
                        task_id: Set(p.id),
                        depends_on_id: Set(depends_on),
                    })
            })
            .collect();
        let per_statement = rows_per_statement(
            self.is_postgres(),
            task_dependencies::Column::iter().count(),
        );
        for chunk in edges.chunks(per_statement) {
            task_dependencies::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(m.txn())
                .await
                .map_err(db_err)?;
        }
        self.record_events(m, &moves).await?;

        // A task of the list that succeeded now releases the tasks outside it that waited for
        // it; the list's own tasks have their status already.
        let listed: HashSet<Uuid> = plan.iter().map(|p| p.id).collect();
        let mut outside = BTreeSet::new();
        for task in succeeded {
            outside.extend(
                self.dependents_of(m.txn(), m.ctx(), task)
                    .await?
                    .into_iter()
                    .filter(|id| !listed.contains(id)),
            );
        }
        // Counts the tasks it queues for the wake-ups itself.
        self.release_ready(m, &outside, |_| {
            format!("its last open dependency succeeded, {reason}")
        })
        .await?;
        let queued = written
            .iter()
            .filter(|&&i| plan[i].status == TaskStatus::Queued)
            .count();
        if queued > 0 {
            m.queued_work(queued);
        }
        Ok(())
    }
}
