//! The shared worker fleet: organizations that joined it (`queue_shares`) are served by
//! weighted round robin, each claim running as the organization's own fleet agent.
//!
//! A shared claim reads the members, whether each has claimable work, in rotation order (lowest
//! `pass` first), claims in the first one with work exactly as the organization's own claim
//! does (the same statement, lease, token and history), and then adds what it took, divided by
//! the share, to the member's pass in one `UPDATE` — so concurrent shared claimers (which
//! `SKIP LOCKED` keeps off each other's tasks) account every task once, whatever the number of
//! processes. A member with no work whose pass fell more than one full claim behind the lowest
//! pass of the members with work is lifted to it, so that it cannot take the fleet over to
//! catch up once its work comes.

use orchestore_domain::{
    AgentId, ClaimRequest, ClaimWait, OrganizationId, QueueShare, QueueShareWeight, SharedClaim,
    SharedClaimRequest,
};
use orchestore_repo::{Actor, Ctx, RepoError, RepoResult, SharedQueueRepo};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, QuerySelect, Set,
    Statement, Value,
};
use uuid::Uuid;

use super::entity::queue_shares;
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::{Verb, diff, snapshot};
use crate::tenancy::entity::organizations;

/// Every member in rotation order (lowest pass, then least recently served), and whether it has
/// work its fleet agent can claim: `$1` now. A member whose agent is inactive has none. Each
/// test reads the head of the member's claimable tasks through the claimable index and stops
/// at the first match, so the statement grows with the members, not with their backlogs.
const MEMBERS_POSTGRES: &str = "\
SELECT s.organization_id, s.agent_id, s.share, s.pass, (a.status <> 'inactive' AND EXISTS (
    SELECT 1 FROM tasks t
    WHERE t.organization_id = s.organization_id AND t.status = 'queued'
      AND (t.run_after IS NULL OR t.run_after <= $1)
      AND (t.assigned_agent_id IS NULL OR t.assigned_agent_id = s.agent_id)
      AND (t.required_capabilities = '[]'::jsonb OR t.required_capabilities <@ a.capabilities)))
    AS has_work
FROM queue_shares s
JOIN agents a ON a.organization_id = s.organization_id AND a.id = s.agent_id
ORDER BY s.pass, s.last_served_at NULLS FIRST, s.organization_id";

/// [`MEMBERS_POSTGRES`] on SQLite: `?1` now.
const MEMBERS_SQLITE: &str = "\
SELECT s.organization_id, s.agent_id, s.share, s.pass, (a.status <> 'inactive' AND EXISTS (
    SELECT 1 FROM tasks t
    WHERE t.organization_id = s.organization_id AND t.status = 'queued'
      AND (t.run_after IS NULL OR t.run_after <= ?1)
      AND (t.assigned_agent_id IS NULL OR t.assigned_agent_id = s.agent_id)
      AND NOT EXISTS (
          SELECT 1 FROM json_each(t.required_capabilities) r
          WHERE r.value NOT IN (SELECT c.value FROM json_each(a.capabilities) c))))
    AS has_work
FROM queue_shares s
JOIN agents a ON a.organization_id = s.organization_id AND a.id = s.agent_id
ORDER BY s.pass, s.last_served_at IS NOT NULL, s.last_served_at, s.organization_id";

/// Accounts a shared claim: `$1` organization, `$2` what the claim adds to the pass, `$3` now.
const SERVED_POSTGRES: &str = "\
UPDATE queue_shares SET pass = pass + $2, last_served_at = $3 WHERE organization_id = $1";

/// [`SERVED_POSTGRES`] on SQLite.
const SERVED_SQLITE: &str = "\
UPDATE queue_shares SET pass = pass + ?2, last_served_at = ?3 WHERE organization_id = ?1";

/// Lifts a member with no work: `$1` organization, `$2` the lowest pass of the members with
/// work. A member that has work again since the read is lifted all the same: it had none then.
const LIFTED_POSTGRES: &str = "\
UPDATE queue_shares SET pass = $2 WHERE organization_id = $1 AND pass < $2";

/// [`LIFTED_POSTGRES`] on SQLite.
const LIFTED_SQLITE: &str = "\
UPDATE queue_shares SET pass = ?2 WHERE organization_id = ?1 AND pass < ?2";

#[derive(FromQueryResult)]
struct Member {
    organization_id: Uuid,
    agent_id: Uuid,
    share: i32,
    pass: f64,
    has_work: bool,
}

fn to_queue_share(row: queue_shares::Model) -> RepoResult<QueueShare> {
    let share = QueueShareWeight::parse(i64::from(row.share))
        .map_err(|e| corrupt(<queue_shares::Entity as crate::mutation::Audited>::NAME, e))?;
    Ok(QueueShare {
        organization_id: OrganizationId::from_uuid(row.organization_id),
        agent_id: AgentId::from_uuid(row.agent_id),
        share,
        pass: row.pass,
        last_served_at: row.last_served_at,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

impl SeaStore {
    /// Runs one of this module's statements, spelled for the backend.
    async fn execute_fleet(
        &self,
        postgres: &'static str,
        sqlite: &'static str,
        values: Vec<Value>,
    ) -> RepoResult<()> {
        let statement = if self.is_postgres() {
            Statement::from_sql_and_values(DbBackend::Postgres, postgres, values)
        } else {
            Statement::from_sql_and_values(DbBackend::Sqlite, sqlite, values)
        };
        self.db()
            .await
            .execute_raw(statement)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Lifts the members with no work whose pass is more than one full claim (`limit` tasks at
    /// share 1, the largest step) behind `lowest`, the lowest pass of the members with work.
    /// The lag keeps this write rare: a member is lifted again only once the rotation has moved
    /// on by a full claim.
    async fn lift_idle_members(
        &self,
        members: &[Member],
        lowest: f64,
        limit: f64,
    ) -> RepoResult<()> {
        for idle in members
            .iter()
            .filter(|m| !m.has_work && m.pass < lowest - limit)
        {
            self.execute_fleet(
                LIFTED_POSTGRES,
                LIFTED_SQLITE,
                vec![idle.organization_id.into(), lowest.into()],
            )
            .await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl SharedQueueRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %organization, agent = %agent))]
    async fn set_queue_share(
        &self,
        organization: OrganizationId,
        agent: AgentId,
        share: QueueShareWeight,
    ) -> RepoResult<QueueShare> {
        let ctx = Ctx::system(organization);
        self.mutate(&ctx, async |m| {
            organizations::Entity::find_by_id(organization.as_uuid())
                .one(m.txn())
                .await
                .map_err(db_err)?
                .ok_or_else(|| RepoError::not_found("organization", organization))?;
            self.agent_for(m, "agent_id", agent).await?;
            let mut find = queue_shares::Entity::find_by_id(organization.as_uuid());
            if self.is_postgres() {
                find = find.lock_exclusive();
            }
            let existing = find.one(m.txn()).await.map_err(db_err)?;
            let share_column = i32::from(share.get());
            match existing {
                Some(row) => {
                    let before = to_queue_share(row.clone())?;
                    let mut active: queue_shares::ActiveModel = row.into();
                    active.agent_id = Set(agent.as_uuid());
                    active.share = Set(share_column);
                    active.updated_at = Set(m.at());
                    let after = to_queue_share(active.update(m.txn()).await.map_err(db_err)?)?;
                    m.audit::<queue_shares::Entity>(
                        Verb::Update,
                        organization,
                        diff(&before, &after),
                    )
                    .await?;
                    Ok(after)
                }
                None => {
                    // A new member starts level with the others rather than owed every task
                    // they took before it joined.
                    let lowest = queue_shares::Entity::find()
                        .select_only()
                        .column_as(
                            Expr::from(Func::min(Expr::col(queue_shares::Column::Pass))),
                            "lowest",
                        )
                        .into_tuple::<Option<f64>>()
                        .one(m.txn())
                        .await
                        .map_err(db_err)?
                        .flatten();
                    let row = queue_shares::ActiveModel {
                        organization_id: Set(organization.as_uuid()),
                        agent_id: Set(agent.as_uuid()),
                        share: Set(share_column),
                        pass: Set(lowest.unwrap_or(0.0)),
                        last_served_at: Set(None),
                        created_at: Set(m.at()),
                        updated_at: Set(m.at()),
                    }
                    .insert(m.txn())
                    .await
                    .map_err(db_err)?;
                    let created = to_queue_share(row)?;
                    m.audit::<queue_shares::Entity>(Verb::Create, organization, snapshot(&created))
                        .await?;
                    Ok(created)
                }
            }
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %organization))]
    async fn remove_queue_share(&self, organization: OrganizationId) -> RepoResult<()> {
        let ctx = Ctx::system(organization);
        self.mutate(&ctx, async |m| {
            let row = queue_shares::Entity::find_by_id(organization.as_uuid())
                .one(m.txn())
                .await
                .map_err(db_err)?
                .ok_or_else(|| RepoError::not_found("queue_share", organization))?;
            let removed = to_queue_share(row)?;
            queue_shares::Entity::delete_by_id(organization.as_uuid())
                .exec(m.txn())
                .await
                .map_err(db_err)?;
            m.audit::<queue_shares::Entity>(Verb::Delete, organization, snapshot(&removed))
                .await
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn list_queue_shares(&self) -> RepoResult<Vec<QueueShare>> {
        let rows = queue_shares::Entity::find()
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let mut shares = rows
            .into_iter()
            .map(to_queue_share)
            .collect::<RepoResult<Vec<_>>>()?;
        // Rotation order; the backends order NULLs apart, so the sort is done here (the
        // members are few).
        shares.sort_by(|a, b| {
            a.pass
                .total_cmp(&b.pass)
                .then(a.last_served_at.cmp(&b.last_served_at))
                .then(
                    a.organization_id
                        .as_uuid()
                        .cmp(&b.organization_id.as_uuid()),
                )
        });
        Ok(shares)
    }

    #[tracing::instrument(skip_all, fields(limit = request.limit.get()))]
    async fn claim_shared_tasks(
        &self,
        request: SharedClaimRequest,
    ) -> RepoResult<Option<SharedClaim>> {
        let (backend, sql) = if self.is_postgres() {
            (DbBackend::Postgres, MEMBERS_POSTGRES)
        } else {
            (DbBackend::Sqlite, MEMBERS_SQLITE)
        };
        let read = Statement::from_sql_and_values(backend, sql, [crate::store::now().into()]);
        let members = Member::find_by_statement(read)
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let Some(lowest) = members.iter().find(|m| m.has_work).map(|m| m.pass) else {
            return Ok(None);
        };
        self.lift_idle_members(&members, lowest, f64::from(request.limit.get()))
            .await?;
        for member in members.iter().filter(|m| m.has_work) {
            let organization = OrganizationId::from_uuid(member.organization_id);
            let agent = AgentId::from_uuid(member.agent_id);
            let ctx = Ctx::new(organization, Actor::Agent(agent));
            let claim = ClaimRequest {
                agent,
                limit: request.limit,
                lease: request.lease,
                wait: ClaimWait::default(),
            };
            let tasks = match self.claim_now(&ctx, claim, None).await {
                Ok(tasks) => tasks,
                // The agent was made inactive or deleted since the read: the member is passed
                // over, as it would have been a moment later.
                Err(RepoError::Conflict { .. } | RepoError::Reference { .. }) => continue,
                Err(other) => return Err(other),
            };
            // Empty when other claimers took the member's last tasks since the read.
            if tasks.is_empty() {
                continue;
            }
            let added = tasks.len() as f64 / f64::from(member.share.max(1));
            self.execute_fleet(
                SERVED_POSTGRES,
                SERVED_SQLITE,
                vec![
                    member.organization_id.into(),
                    added.into(),
                    crate::store::now().into(),
                ],
            )
            .await?;
            return Ok(Some(SharedClaim {
                organization_id: organization,
                agent_id: agent,
                tasks,
            }));
        }
        Ok(None)
    }
}
