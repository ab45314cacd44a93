//! The API's coverage of the repositories: [`COVERAGE`] names, for every method of every
//! repository trait, the routes whose handlers call it, or why no route does (`Internal`).
//! [`every_repository_method_has_a_route_or_a_reason`] fails when a method is in neither,
//! when the table names a method the traits no longer have or a route the server does not
//! serve, when the handler of a route it names never calls the method (itself, or through
//! the functions of the route modules it calls), and when a route module calls a method the
//! table says is internal.
//!
//! Adding a repository method: give it its route (and the route its matrix row), or an
//! `Internal` reason a reader accepts: who calls it instead, and why no client should.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use Reach::{Internal, Routes};

/// How a repository method is reached.
enum Reach {
    /// By these routes, `(method, path)` as the server's route table lists them: each one's
    /// handler calls the repository method.
    Routes(&'static [(&'static str, &'static str)]),
    /// By no route, for this reason.
    Internal(&'static str),
}

const GET: &str = "GET";
const POST: &str = "POST";
const PUT: &str = "PUT";
const PATCH: &str = "PATCH";
const DELETE: &str = "DELETE";

/// Why the sweeps' methods have no route: each replica of the server runs them for every
/// organization, on its own interval (`startup.rs`).
const SWEEP: &str = "the server's background sweep, for every organization on an interval";

/// Every repository method, in the order of the trait sources, and how it is reached.
#[rustfmt::skip]
const COVERAGE: &[(&str, Reach)] = &[
    // AgentRepo
    ("create_agent", Routes(&[(POST, "/api/v1/agents")])),
    ("get_agent", Routes(&[(GET, "/api/v1/agents/{id}")])),
    ("list_agents", Routes(&[(GET, "/api/v1/agents")])),
    ("update_agent", Routes(&[(PATCH, "/api/v1/agents/{id}")])),
    ("delete_agent", Routes(&[(DELETE, "/api/v1/agents/{id}")])),
    ("record_heartbeat", Routes(&[(POST, "/api/v1/agents/{id}/heartbeat")])),
    ("agent_stats", Routes(&[(GET, "/api/v1/agents/{id}/stats")])),
    // KnowledgeRepo
    ("create_knowledge_entry", Routes(&[(POST, "/api/v1/knowledge")])),
    ("get_knowledge_entry", Routes(&[(GET, "/api/v1/knowledge/{id}")])),
    ("list_knowledge_entries", Routes(&[(GET, "/api/v1/knowledge")])),
    ("update_knowledge_entry", Routes(&[(PATCH, "/api/v1/knowledge/{id}")])),
    ("delete_knowledge_entry", Routes(&[(DELETE, "/api/v1/knowledge/{id}")])),
    ("search_knowledge", Routes(&[(POST, "/api/v1/knowledge/search")])),
    ("create_knowledge_collection", Routes(&[(POST, "/api/v1/knowledge/collections")])),
    ("get_knowledge_collection", Routes(&[(GET, "/api/v1/knowledge/collections/{id}")])),
    ("list_knowledge_collections", Routes(&[(GET, "/api/v1/knowledge/collections")])),
    ("delete_knowledge_collection", Routes(&[(DELETE, "/api/v1/knowledge/collections/{id}")])),
    // MarketplaceRepo
    ("publish_marketplace_item", Routes(&[(POST, "/api/v1/marketplace")])),
    ("list_marketplace_items", Routes(&[(GET, "/api/v1/marketplace")])),
    ("search_marketplace_items", Routes(&[(POST, "/api/v1/marketplace/search")])),
    ("get_marketplace_item", Routes(&[(GET, "/api/v1/marketplace/{id}")])),
    ("unpublish_marketplace_item", Routes(&[(DELETE, "/api/v1/marketplace/{id}")])),
    ("install_marketplace_item", Routes(&[(POST, "/api/v1/marketplace/{id}/install")])),
    ("list_marketplace_installs", Routes(&[(GET, "/api/v1/marketplace/installs")])),
    // AnalyticsRepo
    ("workflow_analytics", Routes(&[(GET, "/api/v1/analytics/workflows")])),
    ("workflow_daily", Routes(&[(GET, "/api/v1/analytics/workflows/{id}/daily")])),
    ("task_kind_analytics", Routes(&[(GET, "/api/v1/analytics/task-kinds")])),
    ("template_analytics", Routes(&[(GET, "/api/v1/analytics/templates")])),
    // MatchRepo
    ("create_match", Routes(&[(POST, "/api/v1/matches")])),
    ("get_match", Routes(&[(GET, "/api/v1/matches/{id}")])),
    ("record_match_result", Routes(&[(POST, "/api/v1/matches/{id}/result")])),
    ("rating_history", Routes(&[(GET, "/api/v1/agents/{id}/rating-history")])),
    // PointsRepo
    ("award_points", Routes(&[(POST, "/api/v1/points")])),
    ("get_point_award", Routes(&[(GET, "/api/v1/points/{id}")])),
    ("list_point_awards", Routes(&[(GET, "/api/v1/points")])),
    ("get_standing", Routes(&[(GET, "/api/v1/agents/{id}/standing"), (GET, "/api/v1/users/{id}/standing")])),
    // RankRepo
    ("get_rank_settings", Routes(&[(GET, "/api/v1/collaboration/settings")])),
    ("set_rank_settings", Routes(&[(PUT, "/api/v1/collaboration/settings")])),
    ("leaderboard", Routes(&[(GET, "/api/v1/leaderboards")])),
    // ReputationRepo
    ("record_reputation_event", Routes(&[(POST, "/api/v1/reputation-events")])),
    ("record_task_outcome", Routes(&[(POST, "/api/v1/agents/{id}/task-outcomes")])),
    ("feed_task_outcomes", Internal(SWEEP)),
    ("organizations_with_task_outcomes_to_feed", Internal(SWEEP)),
    ("get_reputation", Routes(&[(GET, "/api/v1/agents/{id}/reputation")])),
    ("list_reputation_events", Routes(&[(GET, "/api/v1/agents/{id}/reputation-events")])),
    // MessageRepo
    ("send_message", Routes(&[(POST, "/api/v1/messages")])),
    ("get_message", Routes(&[(GET, "/api/v1/messages/{id}")])),
    ("list_messages", Routes(&[(GET, "/api/v1/messages")])),
    ("mark_read", Routes(&[(POST, "/api/v1/messages/read"), (POST, "/api/v1/messages/{id}/read")])),
    ("unread_count", Routes(&[(GET, "/api/v1/messages/unread-count")])),
    // AuditRepo
    ("list_audit", Routes(&[(GET, "/api/v1/audit-logs")])),
    ("seal_audit", Internal(SWEEP)),
    ("verify_audit", Routes(&[(GET, "/api/v1/audit-logs/verification")])),
    ("organizations_with_unsealed_audit", Internal(SWEEP)),
    ("audited_organizations", Internal("`orchestore audit verify` with no organization: every organization of the deployment")),
    ("audit_backlog", Internal("every organization's unsealed rows at once, for the deployment's operators: the Prometheus exporter and `orchestore status`; an organization reads its own count with `GET /api/v1/audit-logs/verification`")),
    // AlertRepo
    ("raise_alert", Routes(&[(POST, "/api/v1/alerts")])),
    ("get_alert", Routes(&[(GET, "/api/v1/alerts/{id}")])),
    ("list_alerts", Routes(&[(GET, "/api/v1/alerts")])),
    ("acknowledge_alert", Routes(&[(POST, "/api/v1/alerts/{id}/acknowledge")])),
    ("resolve_alert", Routes(&[(POST, "/api/v1/alerts/{id}/resolve")])),
    // ComponentRepo
    ("create_component", Routes(&[(POST, "/api/v1/components")])),
    ("get_component", Routes(&[(GET, "/api/v1/components/{id}")])),
    ("list_components", Routes(&[(GET, "/api/v1/components")])),
    ("update_component", Routes(&[(PATCH, "/api/v1/components/{id}")])),
    ("record_communications", Routes(&[(POST, "/api/v1/component-communications")])),
    ("list_communications", Routes(&[(GET, "/api/v1/component-communications")])),
    ("record_health", Routes(&[(POST, "/api/v1/components/{id}/health")])),
    ("list_health", Routes(&[(GET, "/api/v1/components/{id}/health")])),
    ("latest_health", Routes(&[(GET, "/api/v1/components/health")])),
    // EventRepo
    ("record_events", Routes(&[(POST, "/api/v1/events")])),
    ("get_event", Routes(&[(GET, "/api/v1/events/{id}")])),
    ("list_events", Routes(&[(GET, "/api/v1/events")])),
    // MetricRepo
    ("record_metrics", Routes(&[(POST, "/api/v1/metrics")])),
    ("query_metrics", Routes(&[(GET, "/api/v1/metrics/query")])),
    // Store
    ("backend", Internal("which database the store runs on, a constant of the process: `orchestore status` prints it; the readiness check and the database status report it with their own figures")),
    ("health", Routes(&[(GET, "/health/ready")])),
    ("database_status", Routes(&[(GET, "/api/v1/admin/database")])),
    ("pool_status", Internal("the connection pool's gauges, sampled at each scrape of the Prometheus exporter (`GET /metrics`, outside `/api/v1`)")),
    ("begin", Internal("a transaction of the Rust API: calls of any repositories committed together; every route is one call, in its own transaction")),
    // StoreTransaction
    ("commit", Internal("ends a transaction of the Rust API (see `begin`)")),
    ("rollback", Internal("ends a transaction of the Rust API (see `begin`)")),
    // TemplateRepo
    ("create_template", Routes(&[(POST, "/api/v1/templates")])),
    ("get_template", Routes(&[(GET, "/api/v1/templates/{id}")])),
    ("list_templates", Routes(&[(GET, "/api/v1/templates")])),
    ("update_template", Routes(&[(PATCH, "/api/v1/templates/{id}")])),
    ("delete_template", Routes(&[(DELETE, "/api/v1/templates/{id}")])),
    ("instantiate_task_template", Routes(&[(POST, "/api/v1/templates/{id}/instantiate")])),
    ("instantiate_workflow_template", Routes(&[(POST, "/api/v1/templates/{id}/instantiate")])),
    ("list_template_usages", Routes(&[(GET, "/api/v1/templates/{id}/usages")])),
    // OrganizationRepo
    ("create_organization", Internal("an organization without an owner, which nobody could sign in to: the server creates organizations with their owner (sign-up, the first start); this one is the Rust API's, for callers that add their users themselves")),
    ("create_organization_with_owner", Routes(&[(POST, "/api/v1/organizations/signup")])),
    ("get_organization", Routes(&[(GET, "/api/v1/organization")])),
    // UserRepo
    ("create_user", Routes(&[(POST, "/api/v1/users")])),
    ("get_user", Routes(&[(GET, "/api/v1/users/{id}"), (GET, "/api/v1/me")])),
    ("find_user_by_email", Routes(&[(GET, "/api/v1/users/lookup")])),
    ("find_user_by_username", Routes(&[(GET, "/api/v1/users/lookup")])),
    ("list_users", Routes(&[(GET, "/api/v1/users")])),
    ("update_user", Routes(&[(PATCH, "/api/v1/users/{id}")])),
    ("set_user_active", Routes(&[(PATCH, "/api/v1/users/{id}")])),
    ("user_roles", Routes(&[(GET, "/api/v1/users/{id}/roles")])),
    ("assign_role", Routes(&[(POST, "/api/v1/users/{id}/roles")])),
    ("remove_role", Routes(&[(DELETE, "/api/v1/users/{id}/roles/{role_id}")])),
    ("user_permissions", Routes(&[(GET, "/api/v1/me")])),
    ("change_password", Routes(&[(POST, "/api/v1/me/password")])),
    // RoleRepo
    ("create_role", Routes(&[(POST, "/api/v1/roles")])),
    ("get_role", Routes(&[(GET, "/api/v1/roles/{id}")])),
    ("find_role_by_code", Routes(&[(GET, "/api/v1/users"), (POST, "/api/v1/users/{id}/roles")])),
    ("list_roles", Routes(&[(GET, "/api/v1/roles")])),
    ("update_role", Routes(&[(PATCH, "/api/v1/roles/{id}")])),
    ("delete_role", Routes(&[(DELETE, "/api/v1/roles/{id}")])),
    // AuthRepo
    ("count_users", Internal("the first start: the bootstrap organization and owner are created only in a database with no user")),
    ("verify_login", Routes(&[(POST, "/api/v1/auth/login")])),
    ("create_session", Routes(&[(POST, "/api/v1/auth/login")])),
    ("rotate_session", Routes(&[(POST, "/api/v1/auth/refresh")])),
    ("session_standing", Internal("authentication of every request with an access token: whether its session still stands (`standing.rs`)")),
    ("standing_epoch", Internal("authentication of every request with an access token: when a cached standing must be read again (`standing.rs`)")),
    ("list_sessions", Routes(&[(GET, "/api/v1/sessions")])),
    ("revoke_session", Routes(&[(POST, "/api/v1/auth/logout"), (DELETE, "/api/v1/sessions/{id}")])),
    ("revoke_user_sessions", Routes(&[(DELETE, "/api/v1/sessions")])),
    ("instance_setting_or_insert", Internal("the start of each replica: the generated JWT key, kept in the database so that every replica shares it")),
    // InvitationRepo
    ("create_invitation", Routes(&[(POST, "/api/v1/invitations")])),
    ("get_invitation", Routes(&[(GET, "/api/v1/invitations/{id}")])),
    ("list_invitations", Routes(&[(GET, "/api/v1/invitations")])),
    ("revoke_invitation", Routes(&[(DELETE, "/api/v1/invitations/{id}")])),
    ("find_pending_invitation", Routes(&[(POST, "/api/v1/invitations/accept")])),
    ("accept_invitation", Routes(&[(POST, "/api/v1/invitations/accept")])),
    // ApiKeyRepo
    ("create_api_key", Routes(&[(POST, "/api/v1/me/api-keys"), (POST, "/api/v1/agents/{id}/api-keys")])),
    ("list_api_keys", Routes(&[(GET, "/api/v1/me/api-keys"), (GET, "/api/v1/users/{id}/api-keys"), (GET, "/api/v1/agents/{id}/api-keys")])),
    ("revoke_api_key", Routes(&[(DELETE, "/api/v1/me/api-keys/{id}"), (DELETE, "/api/v1/users/{id}/api-keys/{key_id}"), (DELETE, "/api/v1/agents/{id}/api-keys/{key_id}")])),
    ("authenticate_api_key", Internal("authentication of every request with an API key (`auth.rs`)")),
    // ProjectRepo
    ("create_project", Routes(&[(POST, "/api/v1/projects")])),
    ("get_project", Routes(&[(GET, "/api/v1/projects/{id}")])),
    ("list_projects", Routes(&[(GET, "/api/v1/projects")])),
    ("update_project", Routes(&[(PATCH, "/api/v1/projects/{id}")])),
    ("delete_project", Routes(&[(DELETE, "/api/v1/projects/{id}")])),
    // TaskRepo
    ("create_task", Internal("`POST /api/v1/tasks` creates a task with `enqueue_task`, which answers a repeated idempotency key with the first task where this one is a conflict; this one is the Rust API's and the seeder's")),
    ("get_task", Routes(&[(GET, "/api/v1/tasks/{id}")])),
    ("list_tasks", Routes(&[(GET, "/api/v1/tasks")])),
    ("update_task", Routes(&[(PATCH, "/api/v1/tasks/{id}")])),
    ("delete_task", Routes(&[(DELETE, "/api/v1/tasks/{id}")])),
    ("import_tasks", Internal("`orchestore import taskmaster`: a Taskmaster file and its config on the operator's disk, read and mapped by the command line (docs/taskmaster.md)")),
    // TaskGraphRepo
    ("add_dependency", Routes(&[(POST, "/api/v1/tasks/{id}/dependencies")])),
    ("remove_dependency", Routes(&[(DELETE, "/api/v1/tasks/{id}/dependencies/{depends_on}")])),
    ("list_dependencies", Routes(&[(GET, "/api/v1/tasks/{id}/dependencies")])),
    ("list_dependents", Routes(&[(GET, "/api/v1/tasks/{id}/dependents")])),
    ("list_task_events", Routes(&[(GET, "/api/v1/tasks/{id}/events")])),
    ("task_stats", Routes(&[(GET, "/api/v1/tasks/stats"), (GET, "/api/v1/projects/{id}/stats")])),
    // QueueRepo
    ("enqueue_task", Routes(&[(POST, "/api/v1/tasks")])),
    ("enqueue_tasks", Routes(&[(POST, "/api/v1/tasks/batch")])),
    ("claim_tasks", Routes(&[(POST, "/api/v1/queue/claim")])),
    ("claim_task", Routes(&[(POST, "/api/v1/tasks/{id}/claim")])),
    ("heartbeat_task", Routes(&[(POST, "/api/v1/tasks/{id}/heartbeat")])),
    ("complete_task", Routes(&[(POST, "/api/v1/tasks/{id}/complete")])),
    ("complete_tasks", Routes(&[(POST, "/api/v1/queue/complete")])),
    ("fail_task", Routes(&[(POST, "/api/v1/tasks/{id}/fail")])),
    ("release_task", Routes(&[(POST, "/api/v1/tasks/{id}/release")])),
    ("cancel_task", Routes(&[(POST, "/api/v1/tasks/{id}/cancel")])),
    ("retry_task", Routes(&[(POST, "/api/v1/tasks/{id}/retry")])),
    ("expire_leases", Internal(SWEEP)),
    ("organizations_with_expired_leases", Internal(SWEEP)),
    ("queue_stats", Routes(&[(GET, "/api/v1/queue/stats")])),
    ("queue_depth", Internal("every organization's queue at once, for the deployment's operators: the Prometheus exporter and `orchestore status`; an organization reads its own with `GET /api/v1/queue/stats`")),
    // SharedQueueRepo
    ("set_queue_share", Internal("deployment-wide, for the operator: `orchestore queue share set`; no organization's credential may act on the shared fleet")),
    ("remove_queue_share", Internal("deployment-wide, for the operator: `orchestore queue share remove`")),
    ("list_queue_shares", Internal("deployment-wide, for the operator: `orchestore queue share list`")),
    ("claim_shared_tasks", Internal("the shared worker fleet's claim, through the Rust API (docs/fairness.md): it takes the tasks of whichever organization's turn it is, which no organization's credential may do")),
    // ScheduleRepo
    ("create_schedule", Routes(&[(POST, "/api/v1/schedules")])),
    ("get_schedule", Routes(&[(GET, "/api/v1/schedules/{id}"), (GET, "/api/v1/schedules/{id}/next")])),
    ("list_schedules", Routes(&[(GET, "/api/v1/schedules")])),
    ("update_schedule", Routes(&[(PATCH, "/api/v1/schedules/{id}")])),
    ("delete_schedule", Routes(&[(DELETE, "/api/v1/schedules/{id}")])),
    ("pause_schedule", Routes(&[(POST, "/api/v1/schedules/{id}/pause")])),
    ("resume_schedule", Routes(&[(POST, "/api/v1/schedules/{id}/resume")])),
    ("fire_due_schedules", Internal(SWEEP)),
    ("organizations_with_due_schedules", Internal(SWEEP)),
    // RateLimitRepo
    ("create_rate_limit", Routes(&[(POST, "/api/v1/rate-limits")])),
    ("get_rate_limit", Routes(&[(GET, "/api/v1/rate-limits/{name}")])),
    ("list_rate_limits", Routes(&[(GET, "/api/v1/rate-limits")])),
    ("update_rate_limit", Routes(&[(PATCH, "/api/v1/rate-limits/{name}")])),
    ("delete_rate_limit", Routes(&[(DELETE, "/api/v1/rate-limits/{name}")])),
    // WorkflowRepo
    ("create_workflow", Routes(&[(POST, "/api/v1/workflows")])),
    ("get_workflow", Routes(&[(GET, "/api/v1/workflows/{id}")])),
    ("list_workflows", Routes(&[(GET, "/api/v1/workflows")])),
    ("update_workflow", Routes(&[(PATCH, "/api/v1/workflows/{id}")])),
    ("delete_workflow", Routes(&[(DELETE, "/api/v1/workflows/{id}")])),
    ("create_version", Routes(&[(POST, "/api/v1/workflows/{id}/versions")])),
    ("get_version", Routes(&[(GET, "/api/v1/workflows/{id}/versions/{version}")])),
    ("list_versions", Routes(&[(GET, "/api/v1/workflows/{id}/versions")])),
    ("create_execution", Routes(&[(POST, "/api/v1/workflows/{id}/executions"), (POST, "/api/v1/templates/{id}/instantiate")])),
    ("create_child_execution", Routes(&[(POST, "/api/v1/workflows/{id}/executions")])),
    ("get_execution", Routes(&[(GET, "/api/v1/workflows/{id}/executions/{execution_id}")])),
    ("list_executions", Routes(&[(GET, "/api/v1/workflows/{id}/executions")])),
    ("list_execution_tasks", Routes(&[(GET, "/api/v1/workflows/{id}/executions/{execution_id}/tasks")])),
    ("cancel_execution", Routes(&[(POST, "/api/v1/workflows/{id}/executions/{execution_id}/cancel"), (PATCH, "/api/v1/workflows/{id}/executions/{execution_id}")])),
    // LearningRepo
    ("create_learning_record", Routes(&[(POST, "/api/v1/learning-records")])),
    ("get_learning_record", Routes(&[(GET, "/api/v1/learning-records/{id}")])),
    ("list_learning_records", Routes(&[(GET, "/api/v1/learning-records")])),
    // ExecutionStepRepo
    ("record_execution_step", Routes(&[(POST, "/api/v1/workflows/{id}/executions/{execution_id}/steps")])),
    ("list_execution_steps", Routes(&[(GET, "/api/v1/workflows/{id}/executions/{execution_id}/steps")])),
    // WaitRepo
    ("list_execution_waits", Routes(&[(GET, "/api/v1/workflows/executions/{execution_id}/waits")])),
    ("signal_execution", Routes(&[(POST, "/api/v1/workflows/executions/{execution_id}/signals/{name}")])),
    ("fire_due_waits", Internal(SWEEP)),
    ("organizations_with_due_waits", Internal(SWEEP)),
    // RewardRepo
    ("allocate_reward", Routes(&[(POST, "/api/v1/rewards")])),
    ("get_reward", Routes(&[(GET, "/api/v1/rewards/{id}")])),
    ("list_rewards", Routes(&[(GET, "/api/v1/rewards")])),
    ("redeem_reward", Routes(&[(POST, "/api/v1/rewards/{id}/redeem")])),
    ("effective_permissions", Routes(&[(POST, "/api/v1/auth/login"), (POST, "/api/v1/auth/refresh")])),
    ("expire_sanctions", Routes(&[(POST, "/api/v1/sanctions/sweep")])),
    ("organizations_with_ended_sanctions", Internal(SWEEP)),
    // PenaltyRepo
    ("record_violation", Routes(&[(POST, "/api/v1/violations")])),
    ("get_violation", Routes(&[(GET, "/api/v1/violations/{id}")])),
    ("list_violations", Routes(&[(GET, "/api/v1/violations")])),
    ("apply_penalty", Routes(&[(POST, "/api/v1/penalties")])),
    ("get_penalty", Routes(&[(GET, "/api/v1/penalties/{id}")])),
    ("list_penalties", Routes(&[(GET, "/api/v1/penalties")])),
    ("file_appeal", Routes(&[(POST, "/api/v1/appeals")])),
    ("get_appeal", Routes(&[(GET, "/api/v1/appeals/{id}")])),
    ("list_appeals", Routes(&[(GET, "/api/v1/appeals")])),
    ("decide_appeal", Routes(&[(POST, "/api/v1/appeals/{id}/decision")])),
    ("sanctions_summary", Routes(&[(GET, "/api/v1/sanctions/summary")])),
    ("holder_sanctions", Routes(&[(GET, "/api/v1/agents/{id}/sanctions"), (GET, "/api/v1/users/{id}/sanctions")])),
    // BrainstormRepo
    ("create_brainstorm", Routes(&[(POST, "/api/v1/brainstorms")])),
    ("get_brainstorm", Routes(&[(GET, "/api/v1/brainstorms/{id}")])),
    ("list_brainstorms", Routes(&[(GET, "/api/v1/brainstorms")])),
    ("close_brainstorm", Routes(&[(POST, "/api/v1/brainstorms/{id}/close")])),
    ("add_brainstorm_idea", Routes(&[(POST, "/api/v1/brainstorms/{id}/ideas")])),
    ("list_brainstorm_ideas", Routes(&[(GET, "/api/v1/brainstorms/{id}/ideas")])),
    ("vote_for_idea", Routes(&[(POST, "/api/v1/brainstorms/{id}/ideas/{idea_id}/votes")])),
    ("withdraw_idea_vote", Routes(&[(DELETE, "/api/v1/brainstorms/{id}/ideas/{idea_id}/votes")])),
    ("top_brainstorm_ideas", Routes(&[(GET, "/api/v1/brainstorms/{id}/top-ideas")])),
    ("brainstorm_stats", Routes(&[(GET, "/api/v1/brainstorms/{id}/stats")])),
    // MentorshipRepo
    ("create_mentorship", Routes(&[(POST, "/api/v1/mentorships")])),
    ("get_mentorship", Routes(&[(GET, "/api/v1/mentorships/{id}")])),
    ("list_mentorships", Routes(&[(GET, "/api/v1/mentorships")])),
    ("set_mentorship_status", Routes(&[(POST, "/api/v1/mentorships/{id}/status")])),
    ("record_mentorship_session", Routes(&[(POST, "/api/v1/mentorships/{id}/sessions")])),
    ("list_mentorship_sessions", Routes(&[(GET, "/api/v1/mentorships/{id}/sessions")])),
    ("mentor_stats", Routes(&[(GET, "/api/v1/agents/{id}/mentor-stats"), (GET, "/api/v1/users/{id}/mentor-stats")])),
    // ProposalRepo
    ("create_proposal", Routes(&[(POST, "/api/v1/proposals")])),
    ("get_proposal", Routes(&[(GET, "/api/v1/proposals/{id}")])),
    ("list_proposals", Routes(&[(GET, "/api/v1/proposals")])),
    ("cast_vote", Routes(&[(POST, "/api/v1/proposals/{id}/votes")])),
    ("list_votes", Routes(&[(GET, "/api/v1/proposals/{id}/votes")])),
    ("close_proposal", Routes(&[(POST, "/api/v1/proposals/{id}/close")])),
    ("cancel_proposal", Routes(&[(POST, "/api/v1/proposals/{id}/cancel")])),
    ("close_due_proposals", Internal(SWEEP)),
    ("organizations_with_due_proposals", Internal(SWEEP)),
    // AchievementRepo
    ("create_achievement_definition", Routes(&[(POST, "/api/v1/achievement-definitions")])),
    ("get_achievement_definition", Routes(&[(GET, "/api/v1/achievement-definitions/{id}")])),
    ("list_achievement_definitions", Routes(&[(GET, "/api/v1/achievement-definitions")])),
    ("award_achievement", Routes(&[(POST, "/api/v1/achievements")])),
    ("holder_summary", Routes(&[(GET, "/api/v1/agents/{id}/summary"), (GET, "/api/v1/users/{id}/summary")])),
    // BoardRepo
    ("get_leaderboard_weights", Routes(&[(GET, "/api/v1/leaderboards/settings")])),
    ("set_leaderboard_weights", Routes(&[(PUT, "/api/v1/leaderboards/settings")])),
    ("take_leaderboard_snapshot", Routes(&[(POST, "/api/v1/leaderboards/snapshots")])),
    ("take_scheduled_snapshots", Internal(SWEEP)),
    ("organizations_due_for_snapshots", Internal(SWEEP)),
    ("list_leaderboard_snapshots", Routes(&[(GET, "/api/v1/leaderboards/snapshots")])),
    ("get_leaderboard_snapshot", Routes(&[(GET, "/api/v1/leaderboards/snapshots/{id}")])),
    ("hall_of_fame", Routes(&[(GET, "/api/v1/leaderboards/hall-of-fame")])),
    // RetentionRepo
    ("retention_policy", Routes(&[(GET, "/api/v1/retention-policy")])),
    ("set_retention_policy", Routes(&[(PUT, "/api/v1/retention-policy")])),
    ("purge_retention", Internal("the server's background sweep, for every organization with a policy on an interval, and `orchestore retention run` (with `--dry-run`)")),
    ("organizations_with_retention_policy", Internal("the server's retention sweep and `orchestore retention run`: every organization with a policy")),
    // IdempotencyRepo
    ("begin_idempotent_request", Internal("the `Idempotency-Key` header of the routes that take it (`idempotency.rs`), around their own calls")),
    ("finish_idempotent_request", Internal("the `Idempotency-Key` header of the routes that take it (`idempotency.rs`), around their own calls")),
    ("abandon_idempotent_request", Internal("the `Idempotency-Key` header of the routes that take it (`idempotency.rs`), around their own calls")),
    ("purge_expired_idempotent_requests", Internal("the server's retention sweep: answers kept for retries, forgotten once their keys expire")),
];

/// The scopes of the server's route table: a route's path is its scope and the path its
/// module registers.
const SCOPES: [&str; 2] = ["/api/v1", "/health"];

#[test]
fn every_repository_method_has_a_route_or_a_reason() {
    let methods = orchestore_testkit::repository_methods();
    let served: BTreeSet<(String, String)> = orchestore_server::route_table()
        .into_iter()
        .map(|(method, path)| (method.to_owned(), path))
        .collect();
    let sources = route_sources();
    let handlers = handlers(&sources);
    let mut listed = BTreeSet::new();
    let mut failures = Vec::new();
    for (method, reach) in COVERAGE {
        if !listed.insert(*method) {
            failures.push(format!("{method} has two rows"));
        }
        if !methods.contains(method) {
            failures.push(format!("{method} is no repository method"));
        }
        match reach {
            Routes([]) => failures.push(format!("{method} lists no route")),
            Routes(routes) => {
                for &(verb, path) in *routes {
                    let route = (verb.to_owned(), path.to_owned());
                    if !served.contains(&route) {
                        failures.push(format!("{method}: the server serves no {verb} {path}"));
                        continue;
                    }
                    match handlers.get(&route) {
                        None => failures.push(format!(
                            "{method}: no module of src/routes registers {verb} {path}"
                        )),
                        Some(handler) if !calls(&handler.code(&sources), method) => {
                            failures.push(format!(
                                "{method}: {handler}, which handles {verb} {path}, never calls it"
                            ))
                        }
                        Some(_) => {}
                    }
                }
            }
            Internal(reason) => {
                if reason.trim().is_empty() {
                    failures.push(format!("{method} is internal without a reason"));
                }
                for (module, source) in &sources {
                    if calls(source, method) {
                        failures.push(format!(
                            "{method} is listed as internal, but src/routes/{module}.rs calls it: \
                             name its routes"
                        ));
                    }
                }
            }
        }
    }
    let missing: Vec<_> = methods.difference(&listed).collect();
    assert!(
        failures.is_empty() && missing.is_empty(),
        "repository methods with neither a route nor a reason in tests/api/coverage.rs: \
         {missing:?}\n{}",
        failures.join("\n")
    );
}

/// The sources of the route modules, `src/routes/<module>.rs`, by module.
fn route_sources() -> BTreeMap<String, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
    let entries = std::fs::read_dir(&dir).expect("src/routes");
    let sources: BTreeMap<String, String> = entries
        .map(|entry| entry.expect("an entry of src/routes").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .map(|path| {
            let module = path
                .file_stem()
                .and_then(|stem| stem.to_str())
                .expect("a module name")
                .to_owned();
            let source = std::fs::read_to_string(&path).expect("a route module");
            (module, source)
        })
        .collect();
    assert!(sources.len() > 10, "src/routes was not read: {sources:?}");
    sources
}

/// A function of a route module.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Function {
    module: String,
    name: String,
}

impl std::fmt::Display for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}::{}", self.module, self.name)
    }
}

impl Function {
    /// The code this function runs: its own, and that of the functions of the route modules
    /// it calls (`helper(…)` in its module, `super::<module>::helper(…)` in another), and so
    /// on. A method call (`.name(`) is the store's, not a function's.
    fn code(&self, sources: &BTreeMap<String, String>) -> String {
        let mut code = String::new();
        let mut seen = BTreeSet::new();
        let mut pending = vec![self.clone()];
        while let Some(function) = pending.pop() {
            if !seen.insert(function.clone()) {
                continue;
            }
            let Some(body) = sources
                .get(&function.module)
                .and_then(|source| body_of(source, &function.name))
            else {
                continue;
            };
            code.push_str(body);
            for (at, _) in body.match_indices('(') {
                let before = &body[..at];
                let start = before
                    .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .map_or(0, |i| i + 1);
                if before[..start].ends_with('.') {
                    continue;
                }
                pending.push(Function::named(&before[start..], &function.module));
            }
        }
        code
    }

    /// The function a call or a registration names, as written in `module`.
    fn named(path: &str, module: &str) -> Self {
        match path
            .strip_prefix("super::")
            .and_then(|p| p.split_once("::"))
        {
            Some((module, name)) => Self {
                module: module.to_owned(),
                name: name.to_owned(),
            },
            None => Self {
                module: module.to_owned(),
                name: path.to_owned(),
            },
        }
    }
}

/// The text of the function `name` in `source`, from `fn name(` to the first `}` that opens a
/// line (its end, for a function at the top of the module).
fn body_of<'a>(source: &'a str, name: &str) -> Option<&'a str> {
    let start = source.find(&format!("fn {name}("))?;
    let rest = &source[start..];
    Some(&rest[..rest.find("\n}").map_or(rest.len(), |end| end + 2)])
}

/// The handler of each route, `(method, path)` as the route table lists it, read from the
/// registrations `resource("<path>", "<methods>").route(web::get().to(handler))` of the route
/// modules.
fn handlers(sources: &BTreeMap<String, String>) -> BTreeMap<(String, String), Function> {
    let mut handlers = BTreeMap::new();
    for (module, source) in sources {
        let mut rest = source.as_str();
        while let Some(at) = rest.find("resource(") {
            rest = &rest[at + "resource(".len()..];
            // `fn resource(path: …)` and `web::resource(path)` register nothing.
            let Some((path, after)) = string_literal(rest) else {
                continue;
            };
            let registration = &after[..after.find("resource(").unwrap_or(after.len())];
            for call in registration.split("web::").skip(1) {
                let verb: String = call
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase())
                    .collect();
                let Some(handler) = call[verb.len()..].strip_prefix("().to(") else {
                    continue;
                };
                let handler = &handler[..handler.find(')').unwrap_or(handler.len())];
                for scope in SCOPES {
                    handlers.insert(
                        (verb.to_uppercase(), format!("{scope}{path}")),
                        Function::named(handler, module),
                    );
                }
            }
        }
    }
    handlers
}

/// The string literal `s` starts with (after blanks), and what follows it.
fn string_literal(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start().strip_prefix('"')?;
    let end = s.find('"')?;
    Some((&s[..end], &s[end + 1..]))
}

/// Whether `code` calls `method`: `.method(`, on the store or a transaction.
fn calls(code: &str, method: &str) -> bool {
    code.contains(&format!(".{method}("))
}
