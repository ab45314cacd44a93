use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Messages between agents and users, optionally about a task and within a thread.
///
/// Each end is two nullable columns, one per kind (`*_agent_id`, `*_user_id`), so that each
/// has a real composite foreign key into its organization; a check keeps exactly one of each
/// pair set. A message goes with either end and with its task (`ON DELETE CASCADE`): the
/// composite keys cannot `SET NULL` portably, since that would null `organization_id` too.
/// Threads have no table: a thread is the id its messages share.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(Messages::Table)
            .col(uuid(Messages::OrganizationId))
            .col(uuid(Messages::Id))
            .col(uuid_null(Messages::SenderAgentId))
            .col(uuid_null(Messages::SenderUserId))
            .col(uuid_null(Messages::RecipientAgentId))
            .col(uuid_null(Messages::RecipientUserId))
            .col(uuid_null(Messages::TaskId))
            .col(uuid_null(Messages::ThreadId))
            .col(text(Messages::Content))
            .col(json_binary(Messages::Metadata))
            .col(timestamp_with_time_zone_null(Messages::ReadAt))
            .col(timestamp_with_time_zone(Messages::CreatedAt))
            .check((
                Alias::new("ck_messages_one_sender"),
                exactly_one(Messages::SenderAgentId, Messages::SenderUserId),
            ))
            .check((
                Alias::new("ck_messages_one_recipient"),
                exactly_one(Messages::RecipientAgentId, Messages::RecipientUserId),
            ))
            // The domain refuses a message to oneself.
            .check((
                Alias::new("ck_messages_not_to_sender"),
                differ(Messages::SenderAgentId, Messages::RecipientAgentId)
                    .and(differ(Messages::SenderUserId, Messages::RecipientUserId)),
            ))
            .primary_key(
                Index::create()
                    .name("pk_messages")
                    .col(Messages::OrganizationId)
                    .col(Messages::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_messages_organization")
                    .from(Messages::Table, Messages::OrganizationId)
                    .to(Organizations::Table, Organizations::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            );
        for (name, column, parent) in [
            (
                "fk_messages_sender_agent",
                Messages::SenderAgentId,
                Parent::Agents,
            ),
            (
                "fk_messages_sender_user",
                Messages::SenderUserId,
                Parent::Users,
            ),
            (
                "fk_messages_recipient_agent",
                Messages::RecipientAgentId,
                Parent::Agents,
            ),
            (
                "fk_messages_recipient_user",
                Messages::RecipientUserId,
                Parent::Users,
            ),
            ("fk_messages_task", Messages::TaskId, Parent::Tasks),
        ] {
            table.foreign_key(
                ForeignKey::create()
                    .name(name)
                    .from(Messages::Table, (Messages::OrganizationId, column))
                    .to(parent, (Parent::OrganizationId, Parent::Id))
                    .on_delete(ForeignKeyAction::Cascade),
            );
        }
        manager.create_table(table.to_owned()).await?;

        // A thread's and a task's conversation in id (creation) order; a recipient's unread
        // messages (`read_at IS NULL`) in id order, and its unread count. The sender indexes
        // serve the participant filter and the cascades from agents and users.
        for (name, columns) in [
            (
                "idx_messages_thread",
                [Messages::ThreadId, Messages::Id].as_slice(),
            ),
            ("idx_messages_task", &[Messages::TaskId, Messages::Id]),
            (
                "idx_messages_recipient_agent_unread",
                &[Messages::RecipientAgentId, Messages::ReadAt, Messages::Id],
            ),
            (
                "idx_messages_recipient_user_unread",
                &[Messages::RecipientUserId, Messages::ReadAt, Messages::Id],
            ),
            (
                "idx_messages_sender_agent",
                &[Messages::SenderAgentId, Messages::Id],
            ),
            (
                "idx_messages_sender_user",
                &[Messages::SenderUserId, Messages::Id],
            ),
        ] {
            let mut index = Index::create();
            index
                .name(name)
                .table(Messages::Table)
                .col(Messages::OrganizationId);
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Messages::Table).to_owned())
            .await
    }
}

/// Exactly one of the two columns is set.
fn exactly_one(a: Messages, b: Messages) -> SimpleExpr {
    Expr::col(a)
        .is_not_null()
        .and(Expr::col(b).is_null())
        .or(Expr::col(a).is_null().and(Expr::col(b).is_not_null()))
}

/// The two columns do not hold the same id (either may be NULL).
fn differ(a: Messages, b: Messages) -> SimpleExpr {
    Expr::col(a)
        .is_null()
        .or(Expr::col(b).is_null())
        .or(Expr::col(a).ne(Expr::col(b)))
}

#[derive(DeriveIden, Clone, Copy)]
enum Messages {
    Table,
    OrganizationId,
    Id,
    SenderAgentId,
    SenderUserId,
    RecipientAgentId,
    RecipientUserId,
    TaskId,
    ThreadId,
    Content,
    Metadata,
    ReadAt,
    CreatedAt,
}

/// The tables a message refers to, each keyed by `(organization_id, id)`.
#[derive(DeriveIden, Clone, Copy)]
enum Parent {
    Agents,
    Users,
    Tasks,
    OrganizationId,
    Id,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}
