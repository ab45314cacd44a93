use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Retention: each organization's policy, the indexes its purge selects by, and the anchor of
/// an audit chain whose oldest rows were purged.
///
/// - `retention_policies`: one row per organization, a maximum age in seconds per kind of row
///   (NULL keeps them forever), each at least an hour when set.
/// - `audit_chain_heads.anchor_seq` / `anchor_hash`: the place and hash of the last row purged
///   from the front of the chain (0 and NULL while none was), where verification starts.
/// - Indexes leading with `organization_id` on the times a purge compares: messages by
///   `created_at`, metrics by `recorded_at`, sessions by `expires_at` and `revoked_at`
///   (tasks, events and the audit log have theirs already).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut policies = Table::create();
        policies
            .table(Policies::Table)
            .col(uuid(Policies::OrganizationId).primary_key());
        for column in Policies::AGES {
            policies.col(
                big_integer_null(column).check(
                    Expr::col(column)
                        .gte(MIN_AGE_SECONDS)
                        .or(Expr::col(column).is_null()),
                ),
            );
        }
        policies
            .col(timestamp_with_time_zone(Policies::UpdatedAt))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_retention_policies_organization")
                    .from(Policies::Table, Policies::OrganizationId)
                    .to(Parent::Organizations, Parent::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            );
        manager.create_table(policies.to_owned()).await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Heads::Table)
                    .add_column(big_integer(Heads::AnchorSeq).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Heads::Table)
                    .add_column(string_len_null(Heads::AnchorHash, 64))
                    .to_owned(),
            )
            .await?;

        // The same statement on both backends: SQLite and PostgreSQL both take partial indexes.
        let db = manager.get_connection();
        for (_, create) in INDEXES {
            db.execute_unprepared(create).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, _) in INDEXES {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        for column in [Heads::AnchorHash, Heads::AnchorSeq] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Heads::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Policies::Table).to_owned())
            .await
    }
}

/// The shortest age a policy may keep a kind of row for: an hour.
const MIN_AGE_SECONDS: i64 = 3600;

const INDEXES: [(&str, &str); 4] = [
    (
        "idx_messages_created_at",
        "CREATE INDEX idx_messages_created_at ON messages (organization_id, created_at)",
    ),
    (
        "idx_metrics_recorded_at",
        "CREATE INDEX idx_metrics_recorded_at ON metrics (organization_id, recorded_at)",
    ),
    (
        "idx_sessions_expires_at",
        "CREATE INDEX idx_sessions_expires_at ON sessions (organization_id, expires_at)",
    ),
    (
        "idx_sessions_revoked_at",
        "CREATE INDEX idx_sessions_revoked_at ON sessions (organization_id, revoked_at) \
         WHERE revoked_at IS NOT NULL",
    ),
];

#[derive(DeriveIden, Clone, Copy)]
enum Policies {
    #[sea_orm(iden = "retention_policies")]
    Table,
    OrganizationId,
    SucceededTasksSeconds,
    FailedTasksSeconds,
    CancelledTasksSeconds,
    EventsSeconds,
    MetricsSeconds,
    MessagesSeconds,
    SessionsSeconds,
    AuditLogsSeconds,
    UpdatedAt,
}

impl Policies {
    const AGES: [Self; 8] = [
        Self::SucceededTasksSeconds,
        Self::FailedTasksSeconds,
        Self::CancelledTasksSeconds,
        Self::EventsSeconds,
        Self::MetricsSeconds,
        Self::MessagesSeconds,
        Self::SessionsSeconds,
        Self::AuditLogsSeconds,
    ];
}

#[derive(DeriveIden)]
enum Heads {
    #[sea_orm(iden = "audit_chain_heads")]
    Table,
    AnchorSeq,
    AnchorHash,
}

#[derive(DeriveIden)]
enum Parent {
    Organizations,
    Id,
}
