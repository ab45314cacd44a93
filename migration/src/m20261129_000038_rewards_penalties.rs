use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Rewards and penalties: `rewards` allocated to a holder and redeemed once (points, a badge,
/// or a permission for a while, which the redemption writes into `permission_grants`);
/// `violations` reported against a holder, `penalties` applied for them (points deducted
/// through the ledger, or one permission suspended until an instant), and `appeals` of a
/// penalty by its holder, at most one open per penalty (a partial unique index).
///
/// A holder is an agent or a user, as in `point_awards`: two nullable columns with composite
/// foreign keys into the organization, and `holder_id`, the one that is set. The authorization
/// reads a holder's grants and suspensions by `(organization_id, holder_id, …)`; the sweep
/// finds what ended through partial indexes of what is still in force.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut rewards = holder_table(T::Rewards, "rewards");
        rewards
            .col(string_len(T::Kind, 16))
            .col(big_integer_null(T::Points))
            .col(string_len_null(T::Badge, 100))
            .col(string_len_null(T::PermissionCode, 64))
            .col(big_integer_null(T::DurationSeconds))
            .col(text(T::Reason))
            .col(string_len(T::Status, 16))
            .col(text(T::AllocatedBy))
            .col(timestamp_with_time_zone(T::AllocatedAt))
            .col(timestamp_with_time_zone_null(T::ExpiresAt))
            .col(timestamp_with_time_zone_null(T::RedeemedAt))
            .col(text_null(T::RedeemedBy))
            .check((
                Alias::new("ck_rewards_value"),
                Expr::col(T::Kind)
                    .eq("points")
                    .and(Expr::col(T::Points).gt(0))
                    .or(Expr::col(T::Kind)
                        .eq("badge")
                        .and(Expr::col(T::Badge).is_not_null()))
                    .or(Expr::col(T::Kind).eq("permission").and(
                        Expr::col(T::PermissionCode)
                            .is_not_null()
                            .and(Expr::col(T::DurationSeconds).gt(0)),
                    )),
            ))
            .check((
                Alias::new("ck_rewards_status"),
                Expr::col(T::Status)
                    .is_in(["allocated", "redeemed", "expired"])
                    .and(
                        Expr::col(T::Status)
                            .eq("redeemed")
                            .eq(Expr::col(T::RedeemedAt).is_not_null()),
                    ),
            ));
        manager.create_table(rewards.to_owned()).await?;

        let mut grants = holder_table(T::PermissionGrants, "permission_grants");
        grants
            .col(string_len(T::PermissionCode, 64))
            .col(uuid(T::RewardId))
            .col(timestamp_with_time_zone(T::GrantedAt))
            .col(timestamp_with_time_zone(T::ExpiresAt))
            .col(string_len(T::Status, 16))
            .check((
                Alias::new("ck_permission_grants_status"),
                Expr::col(T::Status).is_in(["active", "expired"]),
            ))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_permission_grants_reward")
                    .from(T::PermissionGrants, (T::OrganizationId, T::RewardId))
                    .to(T::Rewards, (T::OrganizationId, T::Id))
                    .on_delete(ForeignKeyAction::Cascade),
            );
        manager.create_table(grants.to_owned()).await?;

        let mut violations = holder_table(T::Violations, "violations");
        violations
            .col(string_len(T::Rule, 200))
            .col(
                string_len(T::Severity, 16)
                    .check(Expr::col(T::Severity).is_in(["low", "medium", "high", "critical"])),
            )
            .col(text(T::Evidence))
            .col(text(T::ReportedBy))
            .col(timestamp_with_time_zone(T::ReportedAt));
        manager.create_table(violations.to_owned()).await?;

        let mut penalties = holder_table(T::Penalties, "penalties");
        penalties
            .col(uuid(T::ViolationId))
            .col(string_len(T::Kind, 16))
            .col(big_integer_null(T::Points))
            .col(uuid_null(T::PointAwardId))
            .col(string_len_null(T::PermissionCode, 64))
            .col(timestamp_with_time_zone_null(T::SuspendedUntil))
            .col(text(T::Reason))
            .col(string_len(T::Status, 16))
            .col(text(T::AppliedBy))
            .col(timestamp_with_time_zone(T::AppliedAt))
            .col(timestamp_with_time_zone_null(T::EndedAt))
            .col(uuid_null(T::RestoredAwardId))
            .check((
                Alias::new("ck_penalties_value"),
                Expr::col(T::Kind)
                    .eq("points")
                    .and(Expr::col(T::Points).gt(0))
                    .and(Expr::col(T::PointAwardId).is_not_null())
                    .or(Expr::col(T::Kind).eq("suspension").and(
                        Expr::col(T::PermissionCode)
                            .is_not_null()
                            .and(Expr::col(T::SuspendedUntil).is_not_null()),
                    )),
            ))
            .check((
                Alias::new("ck_penalties_status"),
                Expr::col(T::Status)
                    .is_in(["applied", "ended", "overturned"])
                    .and(
                        Expr::col(T::Status)
                            .eq("applied")
                            .eq(Expr::col(T::EndedAt).is_null()),
                    ),
            ))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_penalties_violation")
                    .from(T::Penalties, (T::OrganizationId, T::ViolationId))
                    .to(T::Violations, (T::OrganizationId, T::Id))
                    .on_delete(ForeignKeyAction::Cascade),
            );
        for (name, column) in [
            ("fk_penalties_point_award", T::PointAwardId),
            ("fk_penalties_restored_award", T::RestoredAwardId),
        ] {
            penalties.foreign_key(
                ForeignKey::create()
                    .name(name)
                    .from(T::Penalties, (T::OrganizationId, column))
                    .to(T::PointAwards, (T::OrganizationId, T::Id))
                    .on_delete(ForeignKeyAction::Cascade),
            );
        }
        manager.create_table(penalties.to_owned()).await?;

        let mut appeals = holder_table(T::Appeals, "appeals");
        appeals
            .col(uuid(T::PenaltyId))
            .col(text(T::Reason))
            .col(string_len(T::Status, 16))
            .col(timestamp_with_time_zone(T::FiledAt))
            .col(text_null(T::Reviewer))
            .col(text_null(T::DecisionReason))
            .col(timestamp_with_time_zone_null(T::DecidedAt))
            .check((
                Alias::new("ck_appeals_status"),
                Expr::col(T::Status)
                    .is_in(["open", "upheld", "overturned"])
                    .and(
                        Expr::col(T::Status)
                            .eq("open")
                            .eq(Expr::col(T::DecidedAt).is_null()),
                    ),
            ))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_appeals_penalty")
                    .from(T::Appeals, (T::OrganizationId, T::PenaltyId))
                    .to(T::Penalties, (T::OrganizationId, T::Id))
                    .on_delete(ForeignKeyAction::Cascade),
            );
        manager.create_table(appeals.to_owned()).await?;

        // Each holder table: a holder's rows in order (its lists, its grants and suspensions
        // for the authorization), and the agent and user columns for the cascades.
        for (table, name) in [
            (T::Rewards, "rewards"),
            (T::PermissionGrants, "permission_grants"),
            (T::Violations, "violations"),
            (T::Penalties, "penalties"),
            (T::Appeals, "appeals"),
        ] {
            for (suffix, column) in [
                ("holder", T::HolderId),
                ("agent", T::AgentId),
                ("user", T::UserId),
            ] {
                let mut index = Index::create();
                index
                    .name(format!("idx_{name}_{suffix}"))
                    .table(table)
                    .col(T::OrganizationId)
                    .col(column);
                if suffix == "holder" {
                    index.col(T::Id);
                }
                manager.create_index(index.to_owned()).await?;
            }
        }
        // One grant per reward; a violation's penalties and a penalty's appeals (the lists and
        // the cascades); at most one open appeal per penalty.
        for (name, table, column, unique) in [
            (
                "idx_permission_grants_reward",
                T::PermissionGrants,
                T::RewardId,
                true,
            ),
            (
                "idx_penalties_violation",
                T::Penalties,
                T::ViolationId,
                false,
            ),
            (
                "idx_penalties_point_award",
                T::Penalties,
                T::PointAwardId,
                false,
            ),
            (
                "idx_penalties_restored_award",
                T::Penalties,
                T::RestoredAwardId,
                false,
            ),
            ("idx_appeals_penalty", T::Appeals, T::PenaltyId, false),
        ] {
            let mut index = Index::create();
            index
                .name(name)
                .table(table)
                .col(T::OrganizationId)
                .col(column);
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_appeals_one_open")
                    .table(T::Appeals)
                    .col(T::OrganizationId)
                    .col(T::PenaltyId)
                    .unique()
                    .and_where(Expr::col(T::Status).eq("open"))
                    .to_owned(),
            )
            .await?;
        // What the sweep ends: only the rows still in force are indexed.
        for (name, table, column, status) in [
            (
                "idx_rewards_expiring",
                T::Rewards,
                T::ExpiresAt,
                "allocated",
            ),
            (
                "idx_permission_grants_expiring",
                T::PermissionGrants,
                T::ExpiresAt,
                "active",
            ),
            (
                "idx_penalties_suspended_until",
                T::Penalties,
                T::SuspendedUntil,
                "applied",
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(table)
                        .col(T::OrganizationId)
                        .col(column)
                        .and_where(
                            Expr::col(T::Status)
                                .eq(status)
                                .and(Expr::col(column).is_not_null()),
                        )
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            T::Appeals,
            T::Penalties,
            T::Violations,
            T::PermissionGrants,
            T::Rewards,
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// A table of `name` with its key `(organization_id, id)`, its holder columns, the check that
/// exactly one holder is set, and the organization and holder keys.
fn holder_table(table: T, name: &str) -> TableCreateStatement {
    let mut create = Table::create();
    create
        .table(table)
        .col(uuid(T::OrganizationId))
        .col(uuid(T::Id))
        .col(uuid(T::HolderId))
        .col(uuid_null(T::AgentId))
        .col(uuid_null(T::UserId))
        .check((
            Alias::new(format!("ck_{name}_holder")),
            Expr::col(T::AgentId)
                .is_not_null()
                .and(Expr::col(T::UserId).is_null())
                .and(Expr::col(T::HolderId).eq(Expr::col(T::AgentId)))
                .or(Expr::col(T::UserId)
                    .is_not_null()
                    .and(Expr::col(T::AgentId).is_null())
                    .and(Expr::col(T::HolderId).eq(Expr::col(T::UserId)))),
        ))
        .primary_key(
            Index::create()
                .name(format!("pk_{name}"))
                .col(T::OrganizationId)
                .col(T::Id),
        )
        .foreign_key(
            ForeignKey::create()
                .name(format!("fk_{name}_organization"))
                .from(table, T::OrganizationId)
                .to(T::Organizations, T::Id)
                .on_delete(ForeignKeyAction::Cascade),
        );
    for (suffix, column, parent) in [
        ("agent", T::AgentId, T::Agents),
        ("user", T::UserId, T::Users),
    ] {
        create.foreign_key(
            ForeignKey::create()
                .name(format!("fk_{name}_{suffix}"))
                .from(table, (T::OrganizationId, column))
                .to(parent, (T::OrganizationId, T::Id))
                .on_delete(ForeignKeyAction::Cascade),
        );
    }
    create
}

/// The tables and columns of this migration, and the tables it refers to.
#[derive(DeriveIden, Clone, Copy)]
enum T {
    Rewards,
    PermissionGrants,
    Violations,
    Penalties,
    Appeals,
    Organizations,
    Agents,
    Users,
    PointAwards,
    OrganizationId,
    Id,
    HolderId,
    AgentId,
    UserId,
    Kind,
    Points,
    Badge,
    PermissionCode,
    DurationSeconds,
    Reason,
    Status,
    AllocatedBy,
    AllocatedAt,
    ExpiresAt,
    RedeemedAt,
    RedeemedBy,
    RewardId,
    GrantedAt,
    Rule,
    Severity,
    Evidence,
    ReportedBy,
    ReportedAt,
    ViolationId,
    PointAwardId,
    SuspendedUntil,
    AppliedBy,
    AppliedAt,
    EndedAt,
    RestoredAwardId,
    PenaltyId,
    FiledAt,
    Reviewer,
    DecisionReason,
    DecidedAt,
}
