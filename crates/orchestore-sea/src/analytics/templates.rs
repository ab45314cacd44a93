//! Templates: their uses in a window, and how what those uses produced fared.

use std::collections::{BTreeMap, HashMap};

use orchestore_domain::{
    AnalyticsReport, AnalyticsWindow, TemplateAnalytics, TemplateId, TemplateKind,
};
use orchestore_repo::{Ctx, RepoResult};
use sea_orm::{ColumnTrait, Condition, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::Tally;
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::scoped::{scoped, string_array};
use crate::work::entity::tasks;
use crate::workflows::entity::workflow_executions;

/// The uses of the window (organization, since, until) with their template, through
/// `idx_template_usages_organization_created_at`.
const USES: &str = "SELECT u.template_id, t.name, t.kind, u.created_entities, u.workflow_id, \
     u.workflow_version FROM template_usages u \
     JOIN templates t ON t.organization_id = u.organization_id AND t.id = u.template_id \
     WHERE u.organization_id = {org} AND u.created_at >= {since} AND u.created_at < {until}";

/// How many ids or pairs one statement looks up.
const CHUNK: usize = 500;

struct Uses {
    name: String,
    kind: TemplateKind,
    uses: u64,
    tasks: Vec<Uuid>,
    versions: Vec<(Uuid, i32)>,
}

impl SeaStore {
    pub(super) async fn analytics_by_template(
        &self,
        ctx: &Ctx,
        window: AnalyticsWindow,
    ) -> RepoResult<AnalyticsReport<TemplateAnalytics>> {
        let sql = if self.is_postgres() {
            USES.replace("{org}", "$1")
                .replace("{since}", "$2")
                .replace("{until}", "$3")
        } else {
            USES.replace("{org}", "?")
                .replace("{since}", "?")
                .replace("{until}", "?")
        };
        let values = vec![
            ctx.org().as_uuid().into(),
            window.since().into(),
            window.until().into(),
        ];
        let mut templates: BTreeMap<Uuid, Uses> = BTreeMap::new();
        for row in self.analytics_rows(&sql, values).await? {
            let id: Uuid = row.try_get("", "template_id").map_err(db_err)?;
            let kind: String = row.try_get("", "kind").map_err(db_err)?;
            let created: serde_json::Value = row.try_get("", "created_entities").map_err(db_err)?;
            let workflow: Option<Uuid> = row.try_get("", "workflow_id").map_err(db_err)?;
            let version: Option<i32> = row.try_get("", "workflow_version").map_err(db_err)?;
            let uses = match templates.entry(id) {
                std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::btree_map::Entry::Vacant(entry) => entry.insert(Uses {
                    name: row.try_get("", "name").map_err(db_err)?,
                    kind: kind.parse().map_err(|e| corrupt("template", e))?,
                    uses: 0,
                    tasks: Vec::new(),
                    versions: Vec::new(),
                }),
            };
            uses.uses += 1;
            match (uses.kind, workflow, version) {
                (TemplateKind::Workflow, Some(workflow), Some(version)) => {
                    uses.versions.push((workflow, version));
                }
                (TemplateKind::Task, _, _) => {
                    let ids = string_array(&created)
                        .ok_or_else(|| corrupt("template_usage", "created_entities"))?;
                    for id in ids {
                        uses.tasks
                            .push(id.parse().map_err(|e| corrupt("template_usage", e))?);
                    }
                }
                (TemplateKind::Workflow, _, _) => {}
            }
        }
        let task_status = self.task_statuses(ctx, &templates).await?;
        let run_statuses = self.version_run_statuses(ctx, &templates).await?;
        let mut items: Vec<TemplateAnalytics> = templates
            .into_iter()
            .map(|(id, uses)| {
                let mut tally = Tally::default();
                for task in &uses.tasks {
                    if let Some(status) = task_status.get(task) {
                        tally.status(status);
                    }
                }
                for version in &uses.versions {
                    for status in run_statuses.get(version).into_iter().flatten() {
                        tally.status(status);
                    }
                }
                TemplateAnalytics {
                    template_id: TemplateId::from_uuid(id),
                    name: uses.name,
                    kind: uses.kind,
                    uses: uses.uses,
                    produced: tally.outcomes(),
                }
            })
            .collect();
        items.sort_by(|a, b| {
            a.name
                .cmp(&b.name)
                .then_with(|| a.template_id.cmp(&b.template_id))
        });
        Ok(AnalyticsReport { window, items })
    }

    /// The status of each task the uses created that still exists, by primary key.
    async fn task_statuses(
        &self,
        ctx: &Ctx,
        templates: &BTreeMap<Uuid, Uses>,
    ) -> RepoResult<HashMap<Uuid, String>> {
        let mut ids: Vec<Uuid> = templates.values().flat_map(|u| u.tasks.clone()).collect();
        ids.sort_unstable();
        ids.dedup();
        let db = self.db().await;
        let mut statuses = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let rows: Vec<(Uuid, String)> = scoped::<tasks::Entity>(ctx)
                .filter(tasks::Column::Id.is_in(chunk.to_vec()))
                .select_only()
                .column(tasks::Column::Id)
                .column(tasks::Column::Status)
                .into_tuple()
                .all(&db)
                .await
                .map_err(db_err)?;
            statuses.extend(rows);
        }
        Ok(statuses)
    }

    /// The statuses of the executions of each version the uses wrote.
    async fn version_run_statuses(
        &self,
        ctx: &Ctx,
        templates: &BTreeMap<Uuid, Uses>,
    ) -> RepoResult<HashMap<(Uuid, i32), Vec<String>>> {
        let mut versions: Vec<(Uuid, i32)> = templates
            .values()
            .flat_map(|u| u.versions.clone())
            .collect();
        versions.sort_unstable();
        versions.dedup();
        let db = self.db().await;
        let mut statuses: HashMap<(Uuid, i32), Vec<String>> = HashMap::new();
        for chunk in versions.chunks(CHUNK) {
            let any = chunk
                .iter()
                .fold(Condition::any(), |any, (workflow, version)| {
                    any.add(
                        Condition::all()
                            .add(workflow_executions::Column::WorkflowId.eq(*workflow))
                            .add(workflow_executions::Column::Version.eq(*version)),
                    )
                });
            let rows: Vec<(Uuid, i32, String)> = scoped::<workflow_executions::Entity>(ctx)
                .filter(any)
                .select_only()
                .column(workflow_executions::Column::WorkflowId)
                .column(workflow_executions::Column::Version)
                .column(workflow_executions::Column::Status)
                .into_tuple()
                .all(&db)
                .await
                .map_err(db_err)?;
            for (workflow, version, status) in rows {
                statuses
                    .entry((workflow, version))
                    .or_default()
                    .push(status);
            }
        }
        Ok(statuses)
    }
}
