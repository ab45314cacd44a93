//! Orchestore's schema, as sea-orm-migration migrations.
//!
//! Migrations are append-only and self-contained (no entity imports), each reversible and
//! portable across SQLite and PostgreSQL. Every tenant-owned table carries `organization_id`
//! first in its primary key, in each of its unique keys and in each foreign key to another
//! tenant-owned table, and its hot indexes lead with it; it refers to a role by the role's
//! scope, so that it cannot name another organization's custom role (see [`distribution`]).

pub use sea_orm_migration::prelude::*;

pub mod distribution;
mod grants;
mod sources;

pub use sources::MIGRATION_SOURCES;

// Byte for byte as it landed: a landed migration is never edited, not even by rustfmt.
#[rustfmt::skip]
mod m20261126_000001_tenancy;
mod m20261126_000002_projects_tasks;
mod m20261126_000003_audit_logs;
mod m20261127_000004_tenant_keys;
mod m20261127_000005_core_permissions;
mod m20261127_000006_agents;
mod m20261127_000007_users_roles;
mod m20261127_000008_task_graph;
mod m20261127_000009_messages;
mod m20261127_000010_workflows;
mod m20261127_000011_templates;
mod m20261127_000012_tenant_role_keys;
mod m20261127_000013_task_queue;
mod m20261127_000014_template_usage_versions;
mod m20261127_000015_agent_api_keys;
mod m20261127_000016_drop_duplicate_task_index;
mod m20261127_000017_workflow_execution_tasks;
mod m20261127_000018_task_has_dependents;
mod m20261128_000019_session_security;
mod m20261128_000020_audit_chain;
mod m20261128_000021_invitations;
mod m20261128_000022_api_keys;
mod m20261128_000023_tasks_primary_key_last;
mod m20261129_000024_task_history_unchecked;
mod m20261129_000025_knowledge;
mod m20261129_000026_marketplace;
mod m20261129_000027_events_components;
mod m20261129_000028_metrics_alerts;
mod m20261129_000029_execution_steps_learning;
mod m20261129_000030_analytics;
mod m20261129_000031_task_indexes_partial;
mod m20261129_000034_collaboration_ranks;
mod m20261129_000035_reputation_events;
mod m20261129_000036_proposals;
mod m20261129_000037_brainstorms_mentorships;
mod m20261129_000038_rewards_penalties;
mod m20261129_000039_achievements_snapshots;
mod m20261130_000040_retention;
mod m20261130_000041_seed_records;
mod m20261130_000042_reputation_feed;
mod m20261130_000043_schedules;
mod m20261201_000044_concurrency_keys;
mod m20261201_000045_rate_limits;
mod m20261201_000046_queue_shares;
mod m20261201_000047_workflow_waits;
mod m20261201_000048_child_executions;
mod m20261201_000049_task_bodies;
mod m20261201_000050_idempotent_requests;
mod m20261201_000051_fairness_keys;
mod m20261201_000052_revisions;
mod m20261201_000053_settings_revisions;
mod m20261201_000054_task_tags_index_partial;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_tenancy::Migration),
            Box::new(m20261126_000002_projects_tasks::Migration),
            Box::new(m20261126_000003_audit_logs::Migration),
            Box::new(m20261127_000004_tenant_keys::Migration),
            Box::new(m20261127_000005_core_permissions::Migration),
            Box::new(m20261127_000006_agents::Migration),
            Box::new(m20261127_000007_users_roles::Migration),
            Box::new(m20261127_000008_task_graph::Migration),
            Box::new(m20261127_000009_messages::Migration),
            Box::new(m20261127_000010_workflows::Migration),
            Box::new(m20261127_000011_templates::Migration),
            Box::new(m20261127_000012_tenant_role_keys::Migration),
            Box::new(m20261127_000013_task_queue::Migration),
            Box::new(m20261127_000014_template_usage_versions::Migration),
            Box::new(m20261127_000015_agent_api_keys::Migration),
            Box::new(m20261127_000016_drop_duplicate_task_index::Migration),
            Box::new(m20261127_000017_workflow_execution_tasks::Migration),
            Box::new(m20261127_000018_task_has_dependents::Migration),
            Box::new(m20261128_000019_session_security::Migration),
            Box::new(m20261128_000020_audit_chain::Migration),
            Box::new(m20261128_000021_invitations::Migration),
            Box::new(m20261128_000022_api_keys::Migration),
            Box::new(m20261128_000023_tasks_primary_key_last::Migration),
            Box::new(m20261129_000024_task_history_unchecked::Migration),
            Box::new(m20261129_000025_knowledge::Migration),
            Box::new(m20261129_000026_marketplace::Migration),
            Box::new(m20261129_000027_events_components::Migration),
            Box::new(m20261129_000028_metrics_alerts::Migration),
            Box::new(m20261129_000029_execution_steps_learning::Migration),
            Box::new(m20261129_000030_analytics::Migration),
            Box::new(m20261129_000031_task_indexes_partial::Migration),
            Box::new(m20261129_000034_collaboration_ranks::Migration),
            Box::new(m20261129_000035_reputation_events::Migration),
            Box::new(m20261129_000036_proposals::Migration),
            Box::new(m20261129_000037_brainstorms_mentorships::Migration),
            Box::new(m20261129_000038_rewards_penalties::Migration),
            Box::new(m20261129_000039_achievements_snapshots::Migration),
            Box::new(m20261130_000040_retention::Migration),
            Box::new(m20261130_000041_seed_records::Migration),
            Box::new(m20261130_000042_reputation_feed::Migration),
            Box::new(m20261130_000043_schedules::Migration),
            Box::new(m20261201_000044_concurrency_keys::Migration),
            Box::new(m20261201_000045_rate_limits::Migration),
            Box::new(m20261201_000046_queue_shares::Migration),
            Box::new(m20261201_000047_workflow_waits::Migration),
            Box::new(m20261201_000048_child_executions::Migration),
            Box::new(m20261201_000049_task_bodies::Migration),
            Box::new(m20261201_000050_idempotent_requests::Migration),
            Box::new(m20261201_000051_fairness_keys::Migration),
            Box::new(m20261201_000052_revisions::Migration),
            Box::new(m20261201_000053_settings_revisions::Migration),
            Box::new(m20261201_000054_task_tags_index_partial::Migration),
        ]
    }
}

/// The system roles and the permission codes each is granted, as migration 000001 seeds them
/// (it reads this list from here, as it shipped).
///
/// Frozen: that migration has landed, so this list never changes. A permission or role added
/// later is granted by a later migration (see `grants.rs`), never by editing this list.
pub(crate) const SYSTEM_ROLE_PERMISSIONS: [(&str, &[&str]); 5] = [
    (
        "owner",
        &[
            "organizations:read",
            "organizations:write",
            "users:read",
            "users:write",
            "projects:read",
            "projects:write",
            "tasks:read",
            "tasks:write",
            "audit:read",
        ],
    ),
    (
        "admin",
        &[
            "organizations:read",
            "users:read",
            "users:write",
            "projects:read",
            "projects:write",
            "tasks:read",
            "tasks:write",
            "audit:read",
        ],
    ),
    (
        "developer",
        &[
            "organizations:read",
            "projects:read",
            "projects:write",
            "tasks:read",
            "tasks:write",
        ],
    ),
    (
        "viewer",
        &["organizations:read", "projects:read", "tasks:read"],
    ),
    ("agent", &["projects:read", "tasks:read", "tasks:write"]),
];
