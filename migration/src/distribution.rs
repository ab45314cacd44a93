//! How the schema distributes on Citus by `organization_id`: which tables are reference tables
//! (small, copied to every node) and which are distributed (sharded by organization, all
//! colocated). `docs/distribution.md` shows [`citus_sql`]'s output, and the `tenant_keys` test
//! checks the live schema against these lists, so a new table cannot be forgotten.
//!
//! No migration reads this module: it describes the current schema, not a shipped one.

/// The tables every node holds whole, in the order they are declared. `roles` is one because
/// the system roles (with no organization) are shared by every organization; its custom roles
/// carry their organization in [`SCOPE_COLUMN`].
pub const REFERENCE_TABLES: &[&str] = &[
    "organizations",
    "permissions",
    "roles",
    "role_permissions",
    "instance_settings",
    "seaql_migrations",
    "orchestore_migration_checksums",
];

/// The tables sharded by `organization_id`, parents before children, all colocated with the
/// first.
pub const DISTRIBUTED_TABLES: &[&str] = &[
    "users",
    "user_roles",
    "sessions",
    "session_retired_tokens",
    "invitations",
    "invitation_roles",
    "projects",
    "agents",
    "api_keys",
    "tasks",
    "task_dependencies",
    "task_events",
    "messages",
    "collaboration_settings",
    "point_awards",
    "standings",
    "matches",
    "match_players",
    "reputation_events",
    "workflows",
    "workflow_versions",
    "workflow_executions",
    "workflow_execution_tasks",
    "execution_steps",
    "learning_records",
    "templates",
    "template_usages",
    "knowledge_collections",
    "knowledge_entries",
    "knowledge_embeddings",
    "marketplace_items",
    "marketplace_installs",
    "audit_logs",
    "audit_chain_heads",
    "retention_policies",
    "components",
    "events",
    "component_communications",
    "component_health",
    "metrics",
    "alerts",
    "rewards",
    "permission_grants",
    "violations",
    "penalties",
    "appeals",
    "brainstorms",
    "brainstorm_ideas",
    "brainstorm_idea_votes",
    "mentorships",
    "mentorship_sessions",
    "proposals",
    "proposal_options",
    "votes",
    "achievement_definitions",
    "achievements",
    "leaderboard_settings",
    "leaderboard_snapshots",
    "leaderboard_snapshot_entries",
    "seed_records",
    "reputation_feed_watermarks",
    "schedules",
    "idempotent_requests",
    "workflow_waits",
    "queue_shares",
    "rate_limits",
    "task_concurrency_keys",
    "task_bodies",
    "task_fairness_keys",
];

/// The distribution column of every distributed table.
pub const DISTRIBUTION_COLUMN: &str = "organization_id";

/// The column of a reference table that holds organizations' rows beside shared ones (`roles`):
/// a row's organization, or the nil UUID for a shared row. A distributed table refers to such a
/// table by `(scope, id)`, with a check that keeps its own side to its organization or the nil
/// UUID, so that none of its rows can name another organization's row.
pub const SCOPE_COLUMN: &str = "scope";

/// The statements that distribute a freshly migrated database on Citus: reference tables
/// first, then the distributed tables, parents before children.
///
/// Citus distributes a table that has a trigger only with `citus.enable_unsafe_triggers` on;
/// `workflow_versions` has one (it refuses every UPDATE and reads no other table, so it acts
/// on its own shard alone).
pub fn citus_sql() -> String {
    let mut sql = String::new();
    for table in REFERENCE_TABLES {
        sql.push_str(&format!("SELECT create_reference_table('{table}');\n"));
    }
    sql.push_str("SET citus.enable_unsafe_triggers TO on;\n");
    let (first, rest) = DISTRIBUTED_TABLES
        .split_first()
        .expect("a distributed table");
    sql.push_str(&format!(
        "SELECT create_distributed_table('{first}', '{DISTRIBUTION_COLUMN}');\n"
    ));
    for table in rest {
        sql.push_str(&format!(
            "SELECT create_distributed_table('{table}', '{DISTRIBUTION_COLUMN}', \
             colocate_with => '{first}');\n"
        ));
    }
    sql
}
