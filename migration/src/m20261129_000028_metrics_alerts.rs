//! Metric samples and alerts.
//!
//! Samples are appended and never changed, and read by series (one metric of one component)
//! over a time range: the series index leads with `organization_id`, then `component_id`,
//! `name` and `recorded_at`, and carries `value` (PostgreSQL `INCLUDE`, SQLite a last column),
//! so a bucketed query reads its range from the index alone once the table is vacuumed.
//!
//! An alert is unique per organization, source and fingerprint while it is not resolved: a
//! partial unique index on both backends, which a raise's `INSERT … ON CONFLICT` targets so
//! that concurrent raises of one alert count occurrences of one row.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend as DbBackend;

use crate::grants;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The permissions of metrics and alerts, and their grants to the system roles. An agent
/// records samples and raises (and clears) alerts.
const GRANTS: [(&str, &[&str]); 5] = [
    (
        "owner",
        &[
            "metrics:read",
            "metrics:write",
            "alerts:read",
            "alerts:write",
        ],
    ),
    (
        "admin",
        &[
            "metrics:read",
            "metrics:write",
            "alerts:read",
            "alerts:write",
        ],
    ),
    (
        "developer",
        &[
            "metrics:read",
            "metrics:write",
            "alerts:read",
            "alerts:write",
        ],
    ),
    ("viewer", &["metrics:read", "alerts:read"]),
    ("agent", &["metrics:write", "alerts:read", "alerts:write"]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(metrics()).await?;
        let series = match manager.get_database_backend() {
            DbBackend::Postgres => {
                "CREATE INDEX idx_metrics_series ON metrics \
                 (organization_id, component_id, name, recorded_at) INCLUDE (value)"
            }
            _ => {
                "CREATE INDEX idx_metrics_series ON metrics \
                 (organization_id, component_id, name, recorded_at, value)"
            }
        };
        manager.get_connection().execute_unprepared(series).await?;

        manager.create_table(alerts()).await?;
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_alerts_unresolved ON alerts \
                 (organization_id, source, fingerprint) WHERE status <> 'resolved'",
            )
            .await?;
        for (name, column) in [
            ("idx_alerts_status_raised", Alerts::Status),
            ("idx_alerts_source_raised", Alerts::Source),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Alerts::Table)
                        .col(Alerts::OrganizationId)
                        .col(column)
                        .col(Alerts::Id)
                        .to_owned(),
                )
                .await?;
        }
        grants::grant(manager, &GRANTS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        grants::revoke(manager, &GRANTS).await?;
        manager
            .drop_table(Table::drop().table(Alerts::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Metrics::Table).to_owned())
            .await
    }
}

fn metrics() -> TableCreateStatement {
    Table::create()
        .table(Metrics::Table)
        .col(uuid(Metrics::OrganizationId))
        .col(uuid(Metrics::Id))
        .col(uuid(Metrics::ComponentId))
        .col(string_len(Metrics::Name, 100))
        .col(double(Metrics::Value))
        .col(string_len_null(Metrics::Unit, 32))
        .col(json_binary(Metrics::Tags))
        .col(timestamp_with_time_zone(Metrics::RecordedAt))
        .primary_key(
            Index::create()
                .name("pk_metrics")
                .col(Metrics::OrganizationId)
                .col(Metrics::Id),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_metrics_organization")
                .from(Metrics::Table, Metrics::OrganizationId)
                .to(Organizations::Table, Organizations::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_metrics_component")
                .from(
                    Metrics::Table,
                    (Metrics::OrganizationId, Metrics::ComponentId),
                )
                .to(
                    Components::Table,
                    (Components::OrganizationId, Components::Id),
                )
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn alerts() -> TableCreateStatement {
    Table::create()
        .table(Alerts::Table)
        .col(uuid(Alerts::OrganizationId))
        .col(uuid(Alerts::Id))
        .col(string_len(Alerts::Severity, 16))
        .col(string_len(Alerts::Source, 100))
        .col(string_len(Alerts::Fingerprint, 800))
        .col(text(Alerts::Message))
        .col(json_binary(Alerts::Details))
        .col(string_len(Alerts::Status, 16))
        .col(big_integer(Alerts::Occurrences))
        .col(timestamp_with_time_zone(Alerts::FirstRaisedAt))
        .col(timestamp_with_time_zone(Alerts::LastRaisedAt))
        .col(string_len_null(Alerts::AcknowledgedBy, 100))
        .col(timestamp_with_time_zone_null(Alerts::AcknowledgedAt))
        .col(string_len_null(Alerts::ResolvedBy, 100))
        .col(timestamp_with_time_zone_null(Alerts::ResolvedAt))
        .col(timestamp_with_time_zone(Alerts::UpdatedAt))
        .check((
            Alias::new("ck_alerts_severity"),
            Expr::col(Alerts::Severity).is_in(["info", "warning", "critical"]),
        ))
        .check((
            Alias::new("ck_alerts_status"),
            Expr::col(Alerts::Status).is_in(["open", "acknowledged", "resolved"]),
        ))
        .check((
            Alias::new("ck_alerts_occurrences"),
            Expr::col(Alerts::Occurrences).gte(1),
        ))
        .primary_key(
            Index::create()
                .name("pk_alerts")
                .col(Alerts::OrganizationId)
                .col(Alerts::Id),
        )
        .foreign_key(
            ForeignKey::create()
                .name("fk_alerts_organization")
                .from(Alerts::Table, Alerts::OrganizationId)
                .to(Organizations::Table, Organizations::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

#[derive(DeriveIden, Clone, Copy)]
enum Metrics {
    Table,
    OrganizationId,
    Id,
    ComponentId,
    Name,
    Value,
    Unit,
    Tags,
    RecordedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Alerts {
    Table,
    OrganizationId,
    Id,
    Severity,
    Source,
    Fingerprint,
    Message,
    Details,
    Status,
    Occurrences,
    FirstRaisedAt,
    LastRaisedAt,
    AcknowledgedBy,
    AcknowledgedAt,
    ResolvedBy,
    ResolvedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Components {
    Table,
    OrganizationId,
    Id,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}
