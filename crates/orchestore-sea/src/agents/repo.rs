use orchestore_domain::{
    Agent, AgentId, AgentPatch, AgentStats, AgentStatus, Capabilities, Metadata, ModelName, Name,
    NewAgent, OrganizationId, Participant, ProviderName, Revision,
};
use orchestore_repo::{
    AgentFilter, AgentRepo, AgentSort, Ctx, Cursor, Page, PageRequest, RepoError, RepoResult,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::entity::agents;
use crate::SeaStore;
use crate::error::{corrupt, db_err, is_unique_violation};
use crate::messaging::{count_messages, involving};
use crate::mutation::{Verb, diff, snapshot};
use crate::revision::{Revised, delete_revised, expect_revision, to_revision, update_revised};
use crate::scoped::{Keyset, Lock, keyset_page, scoped, string_array};
use crate::work::entity::tasks;

fn to_agent(row: agents::Model) -> RepoResult<Agent> {
    let bad = |e: String| corrupt("agent", e);
    let capabilities = string_array(&row.capabilities)
        .ok_or_else(|| bad("capabilities is not an array of strings".into()))?;
    let counter = |value: i64| u64::try_from(value).map_err(|e| bad(e.to_string()));
    Ok(Agent {
        id: AgentId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        name: Name::parse("name", &row.name).map_err(|e| bad(e.to_string()))?,
        kind: row
            .kind
            .parse()
            .map_err(|e: orchestore_domain::DomainError| bad(e.to_string()))?,
        capabilities: Capabilities::parse(&capabilities).map_err(|e| bad(e.to_string()))?,
        status: row
            .status
            .parse()
            .map_err(|e: orchestore_domain::DomainError| bad(e.to_string()))?,
        config: Metadata::parse("config", row.config).map_err(|e| bad(e.to_string()))?,
        model: row
            .model
            .as_deref()
            .map(ModelName::parse)
            .transpose()
            .map_err(|e| bad(e.to_string()))?,
        provider: row
            .provider
            .as_deref()
            .map(ProviderName::parse)
            .transpose()
            .map_err(|e| bad(e.to_string()))?,
        last_heartbeat_at: row.last_heartbeat_at,
        tasks_completed: counter(row.tasks_completed)?,
        tasks_failed: counter(row.tasks_failed)?,
        messages_sent: counter(row.messages_sent)?,
        total_task_millis: counter(row.total_task_millis)?,
        created_at: row.created_at,
        updated_at: row.updated_at,
        revision: to_revision("agent", row.revision)?,
    })
}

/// How many ids of a deleted agent's unassigned tasks its audit row lists.
const AUDITED_TASK_IDS: u64 = 1000;

fn name_taken(name: &Name) -> RepoError {
    RepoError::taken(
        "agent",
        "name",
        format!("an agent named {name:?} already exists (names compare ignoring case)"),
    )
}

fn capabilities_value(capabilities: &Capabilities) -> serde_json::Value {
    serde_json::json!(capabilities.to_strings())
}

#[async_trait::async_trait]
impl AgentRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_agent(&self, ctx: &Ctx, new: NewAgent) -> RepoResult<Agent> {
        self.mutate(ctx, async |m| {
            let row = agents::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(AgentId::new().as_uuid()),
                name: Set(new.name.as_str().to_owned()),
                name_key: Set(new.name.key()),
                kind: Set(new.kind.as_str().to_owned()),
                capabilities: Set(capabilities_value(&new.capabilities)),
                status: Set(new.status.as_str().to_owned()),
                config: Set(new.config.to_value()),
                model: Set(new.model.as_ref().map(|m| m.as_str().to_owned())),
                provider: Set(new.provider.as_ref().map(|p| p.as_str().to_owned())),
                last_heartbeat_at: Set(None),
                tasks_completed: Set(0),
                tasks_failed: Set(0),
                messages_sent: Set(0),
                total_task_millis: Set(0),
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
            let agent = to_agent(row)?;
            m.audit::<agents::Entity>(Verb::Create, agent.id, snapshot(&agent))
                .await?;
            Ok(agent)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), agent = %id))]
    async fn get_agent(&self, ctx: &Ctx, id: AgentId) -> RepoResult<Agent> {
        self.find_scoped::<agents::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_agent)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_agents(
        &self,
        ctx: &Ctx,
        filter: AgentFilter,
        page: PageRequest<AgentSort>,
    ) -> RepoResult<Page<Agent, AgentSort>> {
        let mut query = scoped::<agents::Entity>(ctx);
        if let Some(status) = filter.status {
            query = query.filter(agents::Column::Status.eq(status.as_str()));
        }
        if let Some(kind) = filter.kind {
            query = query.filter(agents::Column::Kind.eq(kind.as_str()));
        }
        for capability in filter.capabilities.iter() {
            // The one place where the backends differ: JSON containment.
            query = query.filter(if self.is_postgres() {
                Expr::cust_with_values(
                    r#""agents"."capabilities" @> $1"#,
                    [serde_json::json!([capability.as_str()])],
                )
            } else {
                Expr::cust_with_values(
                    r#"EXISTS (SELECT 1 FROM json_each("agents"."capabilities") WHERE json_each.value = ?)"#,
                    [capability.as_str()],
                )
            });
        }
        let keyset = match page.sort() {
            AgentSort::CreatedAt => Keyset::OldestFirst,
            AgentSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let agents = rows
            .into_iter()
            .map(to_agent)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(agents, &page, |a| {
            Cursor::after(page.sort(), a.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), agent = %id))]
    async fn update_agent(
        &self,
        ctx: &Ctx,
        id: AgentId,
        patch: AgentPatch,
        expected: Option<Revision>,
    ) -> RepoResult<Agent> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<agents::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let read = row.revision;
            expect_revision::<agents::Entity>(id, read, expected)?;
            let before = to_agent(row.clone())?;
            if patch.is_empty() {
                return Ok(before);
            }
            let mut update = row.into_active_model();
            if let Some(name) = &patch.name {
                update.name = Set(name.as_str().to_owned());
                update.name_key = Set(name.key());
            }
            if let Some(kind) = patch.kind {
                update.kind = Set(kind.as_str().to_owned());
            }
            if let Some(capabilities) = &patch.capabilities {
                update.capabilities = Set(capabilities_value(capabilities));
            }
            if let Some(status) = patch.status {
                update.status = Set(status.as_str().to_owned());
            }
            if let Some(config) = &patch.config {
                update.config = Set(config.to_value());
            }
            if let Some(model) = &patch.model {
                update.model = Set(model.as_ref().map(|m| m.as_str().to_owned()));
            }
            if let Some(provider) = &patch.provider {
                update.provider = Set(provider.as_ref().map(|p| p.as_str().to_owned()));
            }
            update.updated_at = Set(m.at());
            let row = update_revised(m.txn(), id, update, read, expected, |e| {
                match (&patch.name, is_unique_violation(&e)) {
                    (Some(name), true) => name_taken(name),
                    _ => db_err(e),
                }
            })
            .await?;
            let after = to_agent(row)?;
            let verb = if before.status == after.status {
                Verb::Update
            } else {
                Verb::Status(after.status.as_str())
            };
            m.audit::<agents::Entity>(verb, id, diff(&before, &after))
                .await?;
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), agent = %id))]
    async fn delete_agent(
        &self,
        ctx: &Ctx,
        id: AgentId,
        expected: Option<Revision>,
    ) -> RepoResult<()> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<agents::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let read = row.revision;
            expect_revision::<agents::Entity>(id, read, expected)?;
            let agent = to_agent(row)?;
            // The messages it sent or received go with it (ON DELETE CASCADE); the audit row
            // counts them.
            let deleted_message_count =
                count_messages(m.txn(), ctx, involving(Participant::Agent(id))).await?;
            // The key (organization_id, assigned_agent_id) cannot set only the agent to NULL
            // on its own: unassign the agent's tasks here, counted and named in the audit row.
            let assigned = || {
                scoped::<tasks::Entity>(ctx).filter(tasks::Column::AssignedAgentId.eq(id.as_uuid()))
            };
            let unassigned_count = assigned().count(m.txn()).await.map_err(db_err)?;
            let unassigned: Vec<uuid::Uuid> = assigned()
                .select_only()
                .column(tasks::Column::Id)
                .order_by_asc(tasks::Column::Id)
                .limit(AUDITED_TASK_IDS)
                .into_tuple()
                .all(m.txn())
                .await
                .map_err(db_err)?;
            tasks::Entity::update_many()
                .col_expr(
                    tasks::Column::AssignedAgentId,
                    Expr::value(Option::<uuid::Uuid>::None),
                )
                .col_expr(tasks::Column::UpdatedAt, Expr::value(m.at()))
                .col_expr(tasks::Column::Revision, tasks::Entity::next_revision())
                .filter(tasks::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(tasks::Column::AssignedAgentId.eq(id.as_uuid()))
                .exec(m.txn())
                .await
                .map_err(db_err)?;
            delete_revised::<agents::Entity>(m.txn(), ctx, id, read, expected).await?;
            let mut changes = snapshot(&agent);
            if let Some(object) = changes.as_object_mut() {
                object.insert("deleted_message_count".into(), deleted_message_count.into());
                object.insert("unassigned_task_count".into(), unassigned_count.into());
                object.insert("unassigned_tasks".into(), serde_json::json!(unassigned));
            }
            m.audit::<agents::Entity>(Verb::Delete, id, changes).await
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), agent = %id))]
    async fn record_heartbeat(&self, ctx: &Ctx, id: AgentId) -> RepoResult<Agent> {
        self.mutate(ctx, async |m| {
            let row = self
                .find_scoped::<agents::Entity>(m.txn(), ctx, id, Lock::ForUpdate)
                .await?;
            let before = to_agent(row.clone())?;
            let read = row.revision;
            let mut update = row.into_active_model();
            update.last_heartbeat_at = Set(Some(m.at()));
            let back_online = before.status == AgentStatus::Offline;
            if back_online {
                update.status = Set(AgentStatus::Active.as_str().to_owned());
                update.updated_at = Set(m.at());
            }
            let after = to_agent(update_revised(m.txn(), id, update, read, None, db_err).await?)?;
            if back_online {
                m.audit::<agents::Entity>(
                    Verb::Status(AgentStatus::Active.as_str()),
                    id,
                    diff(&before, &after),
                )
                .await?;
            }
            Ok(after)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), agent = %id))]
    async fn agent_stats(&self, ctx: &Ctx, id: AgentId) -> RepoResult<AgentStats> {
        self.get_agent(ctx, id).await.map(|agent| agent.stats())
    }
}
