use orchestore_domain::{
    AgentId, Message, MessageContent, MessageId, Metadata, NewMessage, OrganizationId, Participant,
    TaskId, ThreadId, UserId,
};
use orchestore_repo::{
    Ctx, Cursor, MarkRead, MessageFilter, MessageRepo, MessageSort, Page, PageRequest, RepoError,
    RepoResult,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::entity::messages;
use super::{involving, sent_to};
use crate::SeaStore;
use crate::agents::entity::agents;
use crate::error::{corrupt, db_err};
use crate::mutation::{Audited, Verb, snapshot};
use crate::revision::Revised;
use crate::scoped::{Keyset, Lock, Tenanted, keyset_page, scoped};
use crate::tenancy::entity::users;
use crate::work::entity::tasks;

/// How many of the messages one `mark_read` call marks its audit row lists (a thread can
/// hold many more than a list of ids).
const AUDITED_MESSAGE_IDS: u64 = 1000;

fn to_message(row: messages::Model) -> RepoResult<Message> {
    let bad = |e: String| corrupt("message", e);
    let end = |agent: Option<Uuid>, user: Option<Uuid>, which: &str| match (agent, user) {
        (Some(id), None) => Ok(Participant::Agent(AgentId::from_uuid(id))),
        (None, Some(id)) => Ok(Participant::User(UserId::from_uuid(id))),
        _ => Err(bad(format!("{which} is not exactly one agent or one user"))),
    };
    Ok(Message {
        id: MessageId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        sender: end(row.sender_agent_id, row.sender_user_id, "sender")?,
        recipient: end(row.recipient_agent_id, row.recipient_user_id, "recipient")?,
        task_id: row.task_id.map(TaskId::from_uuid),
        thread_id: row.thread_id.map(ThreadId::from_uuid),
        content: MessageContent::parse(&row.content).map_err(|e| bad(e.to_string()))?,
        metadata: Metadata::parse("metadata", row.metadata).map_err(|e| bad(e.to_string()))?,
        read_at: row.read_at,
        created_at: row.created_at,
    })
}

/// One end as its two columns: `(agent id, user id)`.
fn columns(participant: Participant) -> (Option<Uuid>, Option<Uuid>) {
    match participant {
        Participant::Agent(id) => (Some(id.as_uuid()), None),
        Participant::User(id) => (None, Some(id.as_uuid())),
    }
}

/// Whether row `id` of `E` exists in the context's organization.
async fn exists<E: Tenanted>(db: &impl ConnectionTrait, ctx: &Ctx, id: Uuid) -> RepoResult<bool>
where
    E::Model: Sync,
{
    scoped::<E>(ctx)
        .filter(E::id_column().eq(id))
        .count(db)
        .await
        .map(|n| n > 0)
        .map_err(db_err)
}

/// `Ok` when `participant` exists in the context's organization; else a `Reference` error on
/// input `field`.
async fn require_participant(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    field: &'static str,
    participant: Participant,
) -> RepoResult<()> {
    let (found, entity) = match participant {
        Participant::Agent(id) => (
            exists::<agents::Entity>(db, ctx, id.as_uuid()).await?,
            agents::Entity::NAME,
        ),
        Participant::User(id) => (
            exists::<users::Entity>(db, ctx, id.as_uuid()).await?,
            users::Entity::NAME,
        ),
    };
    if found {
        Ok(())
    } else {
        Err(RepoError::reference(field, entity, participant.id()))
    }
}

#[async_trait::async_trait]
impl MessageRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org(), sender = %new.sender()))]
    async fn send_message(&self, ctx: &Ctx, new: NewMessage) -> RepoResult<Message> {
        self.mutate(ctx, async |m| {
            match new.sender() {
                // The counter grows in this transaction, and a missing agent updates nothing.
                Participant::Agent(id) => {
                    let counted = agents::Entity::update_many()
                        .col_expr(
                            agents::Column::MessagesSent,
                            Expr::col(agents::Column::MessagesSent).add(1),
                        )
                        .col_expr(agents::Column::Revision, agents::Entity::next_revision())
                        .filter(agents::Column::OrganizationId.eq(ctx.org().as_uuid()))
                        .filter(agents::Column::Id.eq(id.as_uuid()))
                        .exec(m.txn())
                        .await
                        .map_err(db_err)?;
                    if counted.rows_affected == 0 {
                        return Err(RepoError::reference("sender", agents::Entity::NAME, id));
                    }
                }
                sender @ Participant::User(_) => {
                    require_participant(m.txn(), ctx, "sender", sender).await?;
                }
            }
            require_participant(m.txn(), ctx, "recipient", new.recipient()).await?;
            if let Some(task) = new.task_id()
                && !exists::<tasks::Entity>(m.txn(), ctx, task.as_uuid()).await?
            {
                return Err(RepoError::reference("task_id", tasks::Entity::NAME, task));
            }
            let (sender_agent_id, sender_user_id) = columns(new.sender());
            let (recipient_agent_id, recipient_user_id) = columns(new.recipient());
            let row = messages::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                id: Set(MessageId::new().as_uuid()),
                sender_agent_id: Set(sender_agent_id),
                sender_user_id: Set(sender_user_id),
                recipient_agent_id: Set(recipient_agent_id),
                recipient_user_id: Set(recipient_user_id),
                task_id: Set(new.task_id().map(|id| id.as_uuid())),
                thread_id: Set(new.thread_id().map(|id| id.as_uuid())),
                content: Set(new.content().as_str().to_owned()),
                metadata: Set(new.metadata().to_value()),
                read_at: Set(None),
                created_at: Set(m.at()),
            }
            .insert(m.txn())
            .await
            .map_err(db_err)?;
            let message = to_message(row)?;
            m.audit::<messages::Entity>(Verb::Create, message.id, snapshot(&message))
                .await?;
            Ok(message)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), message = %id))]
    async fn get_message(&self, ctx: &Ctx, id: MessageId) -> RepoResult<Message> {
        self.find_scoped::<messages::Entity>(&self.db().await, ctx, id, Lock::None)
            .await
            .and_then(to_message)
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_messages(
        &self,
        ctx: &Ctx,
        filter: MessageFilter,
        page: PageRequest<MessageSort>,
    ) -> RepoResult<Page<Message, MessageSort>> {
        let mut query = scoped::<messages::Entity>(ctx);
        if let Some(thread) = filter.thread_id {
            query = query.filter(messages::Column::ThreadId.eq(thread.as_uuid()));
        }
        if let Some(task) = filter.task_id {
            query = query.filter(messages::Column::TaskId.eq(task.as_uuid()));
        }
        if let Some(participant) = filter.participant {
            query = query.filter(involving(participant));
        }
        if let Some(recipient) = filter.recipient {
            query = query.filter(sent_to(recipient));
        }
        if filter.unread_only {
            query = query.filter(messages::Column::ReadAt.is_null());
        }
        let keyset = match page.sort() {
            MessageSort::CreatedAt => Keyset::OldestFirst,
            MessageSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let messages = rows
            .into_iter()
            .map(to_message)
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(Page::from_rows(messages, &page, |message| {
            Cursor::after(page.sort(), message.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn mark_read(&self, ctx: &Ctx, which: MarkRead) -> RepoResult<u64> {
        self.mutate(ctx, async |m| {
            let (targets, mut changes) = match &which {
                MarkRead::Messages(ids) => {
                    let ids: Vec<Uuid> = ids.as_slice().iter().map(|id| id.as_uuid()).collect();
                    let found: Vec<Uuid> = scoped::<messages::Entity>(ctx)
                        .filter(messages::Column::Id.is_in(ids.clone()))
                        .select_only()
                        .column(messages::Column::Id)
                        .into_tuple()
                        .all(m.txn())
                        .await
                        .map_err(db_err)?;
                    if let Some(missing) = ids.iter().find(|id| !found.contains(id)) {
                        return Err(RepoError::not_found(messages::Entity::NAME, missing));
                    }
                    (
                        Condition::all().add(messages::Column::Id.is_in(ids)),
                        serde_json::Map::new(),
                    )
                }
                MarkRead::Thread {
                    recipient,
                    thread_id,
                } => {
                    require_participant(m.txn(), ctx, "recipient", *recipient).await?;
                    let mut changes = serde_json::Map::new();
                    changes.insert("recipient".into(), json!(recipient));
                    changes.insert("thread_id".into(), json!(thread_id));
                    (
                        sent_to(*recipient).add(messages::Column::ThreadId.eq(thread_id.as_uuid())),
                        changes,
                    )
                }
            };
            let unread = Condition::all()
                .add(targets)
                .add(messages::Column::ReadAt.is_null());
            // The rows this call marks (the first ones, for the audit row), locked on
            // PostgreSQL so that a concurrent call cannot mark them between this read and the
            // update: the audit row lists what this call marked.
            let mut listed = scoped::<messages::Entity>(ctx)
                .filter(unread.clone())
                .select_only()
                .column(messages::Column::Id)
                .order_by_asc(messages::Column::Id)
                .limit(AUDITED_MESSAGE_IDS);
            if self.is_postgres() {
                listed = listed.lock_exclusive();
            }
            let listed: Vec<Uuid> = listed.into_tuple().all(m.txn()).await.map_err(db_err)?;
            let Some(first) = listed.first().copied() else {
                return Ok(0);
            };
            // Only unread rows: one read already keeps its first `read_at`.
            let marked = messages::Entity::update_many()
                .col_expr(messages::Column::ReadAt, Expr::value(m.at()))
                .filter(messages::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(unread)
                .exec(m.txn())
                .await
                .map_err(db_err)?
                .rows_affected;
            changes.insert("read_at".into(), json!(m.at()));
            changes.insert("marked_count".into(), json!(marked));
            changes.insert("marked".into(), json!(listed));
            m.audit::<messages::Entity>(Verb::Named("read"), first, changes.into())
                .await?;
            Ok(marked)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), recipient = %recipient))]
    async fn unread_count(&self, ctx: &Ctx, recipient: Participant) -> RepoResult<u64> {
        let db = self.db().await;
        require_participant(&db, ctx, "recipient", recipient).await?;
        scoped::<messages::Entity>(ctx)
            .filter(sent_to(recipient))
            .filter(messages::Column::ReadAt.is_null())
            .count(&db)
            .await
            .map_err(db_err)
    }
}
