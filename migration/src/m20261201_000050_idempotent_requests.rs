use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Idempotent requests (`idempotent_requests`): the `Idempotency-Key` of a creating POST, per
/// organization and caller, with a fingerprint of the request (method, path, query, body) and,
/// once the request has an answer, the answer (status, content type, `Location`, body) that a
/// repeat of the same request gets for 24 hours. A row is `pending` while its first request
/// runs: a second request with the key meanwhile is told so instead of creating twice. Expired
/// rows are found by instant (the sweep that deletes them) through their own index.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotentRequests::Table)
                    .col(uuid(IdempotentRequests::OrganizationId))
                    .col(string_len(IdempotentRequests::Caller, 80))
                    .col(string_len(IdempotentRequests::Key, 255))
                    .col(string_len(IdempotentRequests::Fingerprint, 64))
                    .col(
                        string_len(IdempotentRequests::State, 16)
                            .check(Expr::col(IdempotentRequests::State).is_in(["pending", "done"])),
                    )
                    .col(small_integer_null(IdempotentRequests::ResponseStatus))
                    .col(string_len_null(
                        IdempotentRequests::ResponseContentType,
                        255,
                    ))
                    .col(text_null(IdempotentRequests::ResponseLocation))
                    .col(blob_null(IdempotentRequests::ResponseBody))
                    .col(timestamp_with_time_zone(IdempotentRequests::CreatedAt))
                    .col(timestamp_with_time_zone(IdempotentRequests::ExpiresAt))
                    // A finished request keeps its answer; a pending one has none yet.
                    .check((
                        Alias::new("ck_idempotent_requests_answer"),
                        Expr::col(IdempotentRequests::State)
                            .eq("done")
                            .eq(Expr::col(IdempotentRequests::ResponseStatus).is_not_null()),
                    ))
                    .primary_key(
                        Index::create()
                            .name("pk_idempotent_requests")
                            .col(IdempotentRequests::OrganizationId)
                            .col(IdempotentRequests::Caller)
                            .col(IdempotentRequests::Key),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_idempotent_requests_organization")
                            .from(
                                IdempotentRequests::Table,
                                IdempotentRequests::OrganizationId,
                            )
                            .to(Parent::Organizations, Parent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_idempotent_requests_expiry")
                    .table(IdempotentRequests::Table)
                    .col(IdempotentRequests::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdempotentRequests::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum IdempotentRequests {
    Table,
    OrganizationId,
    Caller,
    Key,
    Fingerprint,
    State,
    ResponseStatus,
    ResponseContentType,
    ResponseLocation,
    ResponseBody,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Parent {
    Organizations,
    Id,
}
