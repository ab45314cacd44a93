//! The source text of every shipped migration, for the checksums the runner records: a
//! migration applied with one text and shipped with another has been edited after it landed.

/// Each migration's name and its file's text, in the order of `Migrator::migrations()`.
/// A new migration adds its line here too (a test checks that none is missing).
pub const MIGRATION_SOURCES: &[(&str, &str)] = &[
    (
        "m20261126_000001_tenancy",
        include_str!("m20261126_000001_tenancy.rs"),
    ),
    (
        "m20261126_000002_projects_tasks",
        include_str!("m20261126_000002_projects_tasks.rs"),
    ),
    (
        "m20261126_000003_audit_logs",
        include_str!("m20261126_000003_audit_logs.rs"),
    ),
    (
        "m20261127_000004_tenant_keys",
        include_str!("m20261127_000004_tenant_keys.rs"),
    ),
    (
        "m20261127_000005_core_permissions",
        include_str!("m20261127_000005_core_permissions.rs"),
    ),
    (
        "m20261127_000006_agents",
        include_str!("m20261127_000006_agents.rs"),
    ),
    (
        "m20261127_000007_users_roles",
        include_str!("m20261127_000007_users_roles.rs"),
    ),
    (
        "m20261127_000008_task_graph",
        include_str!("m20261127_000008_task_graph.rs"),
    ),
    (
        "m20261127_000009_messages",
        include_str!("m20261127_000009_messages.rs"),
    ),
    (
        "m20261127_000010_workflows",
        include_str!("m20261127_000010_workflows.rs"),
    ),
    (
        "m20261127_000011_templates",
        include_str!("m20261127_000011_templates.rs"),
    ),
    (
        "m20261127_000012_tenant_role_keys",
        include_str!("m20261127_000012_tenant_role_keys.rs"),
    ),
    (
        "m20261127_000013_task_queue",
        include_str!("m20261127_000013_task_queue.rs"),
    ),
    (
        "m20261127_000014_template_usage_versions",
        include_str!("m20261127_000014_template_usage_versions.rs"),
    ),
    (
        "m20261127_000015_agent_api_keys",
        include_str!("m20261127_000015_agent_api_keys.rs"),
    ),
    (
        "m20261127_000016_drop_duplicate_task_index",
        include_str!("m20261127_000016_drop_duplicate_task_index.rs"),
    ),
    (
        "m20261127_000017_workflow_execution_tasks",
        include_str!("m20261127_000017_workflow_execution_tasks.rs"),
    ),
    (
        "m20261127_000018_task_has_dependents",
        include_str!("m20261127_000018_task_has_dependents.rs"),
    ),
    (
        "m20261128_000019_session_security",
        include_str!("m20261128_000019_session_security.rs"),
    ),
    (
        "m20261128_000020_audit_chain",
        include_str!("m20261128_000020_audit_chain.rs"),
    ),
    (
        "m20261128_000021_invitations",
        include_str!("m20261128_000021_invitations.rs"),
    ),
    (
        "m20261128_000023_tasks_primary_key_last",
        include_str!("m20261128_000023_tasks_primary_key_last.rs"),
    ),
    (
        "m20261128_000022_api_keys",
        include_str!("m20261128_000022_api_keys.rs"),
    ),
    (
        "m20261129_000024_task_history_unchecked",
        include_str!("m20261129_000024_task_history_unchecked.rs"),
    ),
    (
        "m20261129_000025_knowledge",
        include_str!("m20261129_000025_knowledge.rs"),
    ),
    (
        "m20261129_000026_marketplace",
        include_str!("m20261129_000026_marketplace.rs"),
    ),
    (
        "m20261129_000027_events_components",
        include_str!("m20261129_000027_events_components.rs"),
    ),
    (
        "m20261129_000028_metrics_alerts",
        include_str!("m20261129_000028_metrics_alerts.rs"),
    ),
    (
        "m20261129_000029_execution_steps_learning",
        include_str!("m20261129_000029_execution_steps_learning.rs"),
    ),
    (
        "m20261129_000030_analytics",
        include_str!("m20261129_000030_analytics.rs"),
    ),
    (
        "m20261129_000031_task_indexes_partial",
        include_str!("m20261129_000031_task_indexes_partial.rs"),
    ),
    (
        "m20261129_000034_collaboration_ranks",
        include_str!("m20261129_000034_collaboration_ranks.rs"),
    ),
    (
        "m20261129_000035_reputation_events",
        include_str!("m20261129_000035_reputation_events.rs"),
    ),
    (
        "m20261129_000036_proposals",
        include_str!("m20261129_000036_proposals.rs"),
    ),
    (
        "m20261129_000037_brainstorms_mentorships",
        include_str!("m20261129_000037_brainstorms_mentorships.rs"),
    ),
    (
        "m20261129_000038_rewards_penalties",
        include_str!("m20261129_000038_rewards_penalties.rs"),
    ),
    (
        "m20261129_000039_achievements_snapshots",
        include_str!("m20261129_000039_achievements_snapshots.rs"),
    ),
];

#[cfg(test)]
mod tests {
    use super::MIGRATION_SOURCES;
    use crate::{Migrator, MigratorTrait};

    #[test]
    fn every_migration_has_its_source_and_no_other() {
        let shipped: Vec<String> = Migrator::migrations()
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        let sourced: Vec<&str> = MIGRATION_SOURCES.iter().map(|(name, _)| *name).collect();
        assert_eq!(shipped, sourced);
        for (name, text) in MIGRATION_SOURCES {
            assert!(
                text.contains("impl MigrationTrait for Migration"),
                "{name}: the text is not a migration's file"
            );
        }
    }
}
