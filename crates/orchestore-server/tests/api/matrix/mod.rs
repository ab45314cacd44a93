//! The route matrix: one row per route and method, saying who may call it and what another
//! organization gets when it calls it with our ids. [`permissions`] calls every row as each
//! system role; [`tenancy`] calls every row as another organization's owner. A route the
//! server serves without a row here fails [`every_route_has_one_row`].
//!
//! Adding a route: add its row to [`rows`], in the order of the server's route table.

mod everything;
mod permissions;
mod tenancy;

use std::collections::BTreeSet;

use orchestore_domain::Permission::{self, *};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub use everything::Everything;
pub use permissions::*;
pub use tenancy::*;

use crate::helpers::*;

/// Who may call a route.
#[derive(Debug, Clone, Copy)]
pub enum Needs {
    /// Anyone, without a token.
    Nothing,
    /// A signed-in user, whatever their permissions; an agent's API key is refused (403).
    User,
    /// A token (a user's or an agent's key) granting all of these.
    All(&'static [Permission]),
}

/// What organization B gets when it calls a route with organization A's ids.
#[derive(Debug, Clone, Copy)]
pub enum Across {
    /// 404: A's row is not there for B.
    NotFound,
    /// 422 naming this field of the body or query: A's row is as missing as no row.
    Reference(&'static str),
    /// This status, and a body with none of A's ids: B's own data, or none.
    Clean(StatusCode),
    /// 200 with each item of a batch answered 404.
    EachNotFound,
}

/// One route and method.
pub struct Row {
    pub method: Method,
    /// As the server registers it, e.g. `/api/v1/tasks/{id}`.
    pub route: &'static str,
    pub needs: Needs,
    pub across: Across,
    /// Appended to the path, e.g. `except_current=true`; `{components}` in it is the set's
    /// component id (see [`Everything::fill_query`]).
    pub query: &'static str,
    /// A body that passes the route's checks of form, with the ids of the set it is given.
    pub body: Option<fn(&Everything) -> Value>,
    /// The call ends the caller's session: it is made with a token of its own.
    pub ends_session: bool,
    /// The route is off on the test server (sign-up): every caller gets the same 403, which
    /// says nothing about its permissions.
    pub off: bool,
}

impl Row {
    fn new(method: Method, route: &'static str, needs: Needs, across: Across) -> Self {
        Self {
            method,
            route,
            needs,
            across,
            query: "",
            body: None,
            ends_session: false,
            off: false,
        }
    }

    fn off(mut self) -> Self {
        self.off = true;
        self
    }

    fn body(mut self, body: fn(&Everything) -> Value) -> Self {
        self.body = Some(body);
        self
    }

    fn query(mut self, query: &'static str) -> Self {
        self.query = query;
        self
    }

    fn ends_session(mut self) -> Self {
        self.ends_session = true;
        self
    }

    /// The path to call, with the ids of `ids`.
    pub fn path(&self, ids: &Everything) -> String {
        let path = ids.fill(self.route);
        if self.query.is_empty() {
            path
        } else {
            format!("{path}?{}", ids.fill_query(self.query))
        }
    }
}

fn get(route: &'static str, needs: Needs, across: Across) -> Row {
    Row::new(Method::GET, route, needs, across)
}

fn post(route: &'static str, needs: Needs, across: Across) -> Row {
    Row::new(Method::POST, route, needs, across)
}

fn patch(route: &'static str, needs: Needs, across: Across) -> Row {
    Row::new(Method::PATCH, route, needs, across)
}

fn put(route: &'static str, needs: Needs, across: Across) -> Row {
    Row::new(Method::PUT, route, needs, across)
}

fn delete(route: &'static str, needs: Needs, across: Across) -> Row {
    Row::new(Method::DELETE, route, needs, across)
}

/// Every route, in the order of the server's route table.
pub fn rows() -> Vec<Row> {
    use Across::{Clean, EachNotFound, NotFound, Reference};
    use Needs::{All, Nothing, User};
    const OK: Across = Clean(StatusCode::OK);
    const CREATED: Across = Clean(StatusCode::CREATED);
    const NO_CONTENT: Across = Clean(StatusCode::NO_CONTENT);
    const UNAUTHORIZED: Across = Clean(StatusCode::UNAUTHORIZED);
    const UNPROCESSABLE: Across = Clean(StatusCode::UNPROCESSABLE_ENTITY);
    vec![
        get("/health/live", Nothing, OK),
        get("/health/ready", Nothing, OK),
        // B offers A's slug and owner with a password of its own.
        post("/api/v1/auth/login", Nothing, UNAUTHORIZED).body(|e| {
            json!({"organization": e.organization_slug, "email": e.owner_email,
                   "password": "not the password"})
        }),
        post("/api/v1/auth/refresh", Nothing, UNAUTHORIZED)
            .body(|_| json!({"refresh_token": "not a refresh token"})),
        post("/api/v1/auth/logout", User, NO_CONTENT).ends_session(),
        get("/api/v1/me", User, OK),
        post("/api/v1/me/password", User, UNPROCESSABLE).body(
            |_| json!({"current_password": "not the password", "new_password": "a new long password"}),
        ),
        get("/api/v1/me/api-keys", User, OK),
        post("/api/v1/me/api-keys", User, CREATED).body(|_| json!({"name": "matrix"})),
        delete("/api/v1/me/api-keys/{id}", User, NotFound),
        get("/api/v1/users/{id}/api-keys", All(&[UsersWrite]), NotFound),
        delete("/api/v1/users/{id}/api-keys/{key_id}", All(&[UsersWrite]), NotFound),
        get("/api/v1/sessions", User, OK),
        delete("/api/v1/sessions", User, OK).query("except_current=true"),
        delete("/api/v1/sessions/{id}", User, NotFound),
        get("/api/v1/organization", All(&[OrganizationsRead]), OK),
        get("/api/v1/retention-policy", All(&[OrganizationsRead]), OK),
        put("/api/v1/retention-policy", All(&[OrganizationsWrite]), OK)
            .body(|_| json!({"events": "30d"})),
        // Off unless `auth.open_signup`; B offers A's slug.
        post("/api/v1/organizations/signup", Nothing, Clean(StatusCode::FORBIDDEN))
            .body(|e| {
                json!({"organization": e.organization_slug, "email": "new@example.test",
                       "password": "a long new password"})
            })
            .off(),
        get("/api/v1/users", All(&[UsersRead]), OK),
        // The same e-mail address is another user in another organization.
        post("/api/v1/users", All(&[UsersWrite]), CREATED).body(|e| {
            json!({"email": e.user_email, "display_name": "Someone", "password": USER_PASSWORD})
        }),
        // Another organization's address is no user here.
        get("/api/v1/users/lookup", All(&[UsersRead]), NotFound).query("email={owner_email}"),
        get("/api/v1/users/{id}", All(&[UsersRead]), NotFound),
        patch("/api/v1/users/{id}", All(&[UsersWrite]), NotFound)
            .body(|_| json!({"display_name": "Renamed"})),
        get("/api/v1/users/{id}/roles", All(&[UsersRead]), NotFound),
        post("/api/v1/users/{id}/roles", All(&[RolesWrite]), NotFound)
            .body(|e| json!({"role_id": e.role})),
        delete("/api/v1/users/{id}/roles/{role_id}", All(&[RolesWrite]), NotFound),
        get("/api/v1/invitations", All(&[UsersRead]), OK),
        post("/api/v1/invitations", All(&[UsersWrite]), CREATED)
            .body(|e| json!({"email": e.user_email.replacen("user-", "invited-", 1)})),
        // No token names a pending invitation: the same 404 for anyone.
        post("/api/v1/invitations/accept", Nothing, NotFound).body(|_| {
            json!({"token": "osi_not-a-token", "display_name": "Someone",
                   "password": "a long new password"})
        }),
        get("/api/v1/invitations/{id}", All(&[UsersRead]), NotFound),
        delete("/api/v1/invitations/{id}", All(&[UsersWrite]), NotFound),
        get("/api/v1/roles", All(&[RolesRead]), OK),
        post("/api/v1/roles", All(&[RolesWrite]), CREATED)
            .body(|e| json!({"code": e.role_code, "permissions": ["tasks:read"]})),
        get("/api/v1/roles/{id}", All(&[RolesRead]), NotFound),
        patch("/api/v1/roles/{id}", All(&[RolesWrite]), NotFound)
            .body(|_| json!({"description": "changed"})),
        delete("/api/v1/roles/{id}", All(&[RolesWrite]), NotFound),
        get("/api/v1/projects", All(&[ProjectsRead]), OK),
        post("/api/v1/projects", All(&[ProjectsWrite]), CREATED)
            .body(|e| json!({"name": e.project_name})),
        get("/api/v1/projects/{id}", All(&[ProjectsRead]), NotFound),
        patch("/api/v1/projects/{id}", All(&[ProjectsWrite]), NotFound)
            .body(|_| json!({"description": "changed"})),
        delete("/api/v1/projects/{id}", All(&[ProjectsWrite]), NotFound),
        get("/api/v1/projects/{id}/stats", All(&[TasksRead]), NotFound),
        get("/api/v1/tasks", All(&[TasksRead]), OK),
        post("/api/v1/tasks", All(&[TasksWrite]), Reference("project_id"))
            .body(|e| json!({"project_id": e.project, "title": "another"})),
        get("/api/v1/tasks/stats", All(&[TasksRead]), OK),
        post("/api/v1/tasks/batch", All(&[TasksWrite]), Reference("tasks[0].project_id"))
            .body(|e| json!({"tasks": [{"project_id": e.project, "title": "another"}]})),
        get("/api/v1/tasks/{id}", All(&[TasksRead]), NotFound),
        patch("/api/v1/tasks/{id}", All(&[TasksWrite]), NotFound)
            .body(|_| json!({"title": "renamed"})),
        delete("/api/v1/tasks/{id}", All(&[TasksWrite]), NotFound),
        get("/api/v1/tasks/{id}/dependencies", All(&[TasksRead]), NotFound),
        post("/api/v1/tasks/{id}/dependencies", All(&[TasksWrite]), NotFound)
            .body(|e| json!({"depends_on": e.dependency})),
        delete("/api/v1/tasks/{id}/dependencies/{depends_on}", All(&[TasksWrite]), NotFound),
        get("/api/v1/tasks/{id}/dependents", All(&[TasksRead]), NotFound),
        get("/api/v1/tasks/{id}/events", All(&[TasksRead]), NotFound),
        post("/api/v1/queue/claim", All(&[TasksWrite]), Reference("agent_id"))
            .body(|e| json!({"agent_id": e.agent})),
        get("/api/v1/queue/stats", All(&[TasksRead]), OK),
        // With A's task and its live lease token.
        post("/api/v1/queue/complete", All(&[TasksWrite]), EachNotFound).body(|e| {
            json!({"completions": [{"task_id": e.task, "lease_token": e.lease_token}]})
        }),
        // The agent is checked first.
        post("/api/v1/tasks/{id}/claim", All(&[TasksWrite]), Reference("agent_id"))
            .body(|e| json!({"agent_id": e.agent})),
        post("/api/v1/tasks/{id}/heartbeat", All(&[TasksWrite]), NotFound)
            .body(|e| json!({"lease_token": e.lease_token})),
        post("/api/v1/tasks/{id}/complete", All(&[TasksWrite]), NotFound)
            .body(|e| json!({"lease_token": e.lease_token})),
        post("/api/v1/tasks/{id}/fail", All(&[TasksWrite]), NotFound)
            .body(|e| json!({"lease_token": e.lease_token})),
        post("/api/v1/tasks/{id}/release", All(&[TasksWrite]), NotFound)
            .body(|e| json!({"lease_token": e.lease_token})),
        post("/api/v1/tasks/{id}/cancel", All(&[TasksWrite]), NotFound),
        post("/api/v1/tasks/{id}/retry", All(&[TasksWrite]), NotFound),
        get("/api/v1/agents", All(&[AgentsRead]), OK),
        post("/api/v1/agents", All(&[AgentsWrite]), CREATED)
            .body(|e| json!({"name": e.agent_name, "kind": "ai"})),
        get("/api/v1/agents/{id}", All(&[AgentsRead]), NotFound),
        patch("/api/v1/agents/{id}", All(&[AgentsWrite]), NotFound)
            .body(|_| json!({"config": {"changed": true}})),
        delete("/api/v1/agents/{id}", All(&[AgentsWrite]), NotFound),
        post("/api/v1/agents/{id}/heartbeat", All(&[AgentsHeartbeat]), NotFound),
        get("/api/v1/agents/{id}/stats", All(&[AgentsRead]), NotFound),
        get("/api/v1/agents/{id}/api-keys", All(&[AgentsRead]), NotFound),
        post("/api/v1/agents/{id}/api-keys", All(&[AgentsWrite]), NotFound)
            .body(|_| json!({"name": "another host"})),
        delete("/api/v1/agents/{id}/api-keys/{key_id}", All(&[AgentsWrite]), NotFound),
        post("/api/v1/messages/read", All(&[MessagesWrite]), NotFound)
            .body(|e| json!({"ids": [e.message]})),
        get("/api/v1/messages/unread-count", All(&[MessagesRead]), OK),
        get("/api/v1/messages", All(&[MessagesRead]), OK),
        post("/api/v1/messages", All(&[MessagesWrite]), Reference("recipient")).body(|e| {
            json!({"recipient": {"kind": "user", "id": e.owner}, "content": "hello",
                   "task_id": e.task})
        }),
        get("/api/v1/messages/{id}", All(&[MessagesRead]), NotFound),
        post("/api/v1/messages/{id}/read", All(&[MessagesWrite]), NotFound),
        get("/api/v1/workflows", All(&[WorkflowsRead]), OK),
        post("/api/v1/workflows", All(&[WorkflowsWrite]), CREATED)
            .body(|e| json!({"name": e.workflow_name})),
        get("/api/v1/workflows/{id}", All(&[WorkflowsRead]), NotFound),
        patch("/api/v1/workflows/{id}", All(&[WorkflowsWrite]), NotFound)
            .body(|_| json!({"description": "changed"})),
        delete("/api/v1/workflows/{id}", All(&[WorkflowsWrite]), NotFound),
        get("/api/v1/workflows/{id}/versions", All(&[WorkflowsRead]), NotFound),
        post("/api/v1/workflows/{id}/versions", All(&[WorkflowsWrite]), NotFound)
            .body(|_| json!({"definition": {"steps": [{"name": "again"}]}})),
        get("/api/v1/workflows/{id}/versions/{version}", All(&[WorkflowsRead]), NotFound),
        get("/api/v1/workflows/{id}/executions", All(&[WorkflowsRead]), NotFound),
        post(
            "/api/v1/workflows/{id}/executions",
            All(&[TasksWrite, WorkflowsWrite]),
            NotFound,
        )
        .body(|e| json!({"project_id": e.project, "input": {}})),
        get(
            "/api/v1/workflows/{id}/executions/{execution_id}",
            All(&[WorkflowsRead]),
            NotFound,
        ),
        patch(
            "/api/v1/workflows/{id}/executions/{execution_id}",
            All(&[TasksWrite, WorkflowsWrite]),
            NotFound,
        )
        .body(|_| json!({"status": "cancelled"})),
        post(
            "/api/v1/workflows/{id}/executions/{execution_id}/cancel",
            All(&[TasksWrite, WorkflowsWrite]),
            NotFound,
        ),
        get(
            "/api/v1/workflows/{id}/executions/{execution_id}/tasks",
            All(&[TasksRead, WorkflowsRead]),
            NotFound,
        ),
        get(
            "/api/v1/workflows/{id}/executions/{execution_id}/steps",
            All(&[WorkflowsRead]),
            NotFound,
        ),
        post(
            "/api/v1/workflows/{id}/executions/{execution_id}/steps",
            All(&[StepsWrite]),
            NotFound,
        )
        .body(|_| everything::step_body()),
        get(
            "/api/v1/workflows/executions/{execution_id}/waits",
            All(&[WorkflowsRead]),
            NotFound,
        ),
        post(
            "/api/v1/workflows/executions/{execution_id}/signals/{name}",
            All(&[TasksWrite, WorkflowsWrite]),
            NotFound,
        )
        .body(|_| json!({"payload": {"approved": true}})),
        get("/api/v1/templates", All(&[TemplatesRead]), OK),
        post("/api/v1/templates", All(&[TemplatesWrite]), CREATED).body(|e| {
            json!({"name": e.template_name, "kind": "task",
                   "body": {"tasks": [{"title": "from the template"}]}})
        }),
        get("/api/v1/templates/{id}", All(&[TemplatesRead]), NotFound),
        patch("/api/v1/templates/{id}", All(&[TemplatesWrite]), NotFound)
            .body(|_| json!({"description": "changed"})),
        delete("/api/v1/templates/{id}", All(&[TemplatesWrite]), NotFound),
        // A task template into a project; a workflow template needs `workflows:write` instead
        // of `tasks:write` (and `tasks:write` too with `run`).
        post(
            "/api/v1/templates/{id}/instantiate",
            All(&[TasksWrite, TemplatesWrite]),
            NotFound,
        )
        .body(|e| json!({"project_id": e.project})),
        get("/api/v1/templates/{id}/usages", All(&[TemplatesRead]), NotFound),
        // B searches A's words in A's project: B's own entries, none of A's.
        post("/api/v1/knowledge/search", All(&[KnowledgeRead]), OK)
            .body(|e| json!({"query": "rocket fuel", "project_id": e.project})),
        get("/api/v1/knowledge/collections", All(&[KnowledgeRead]), OK),
        // A collection of A's name: B's own, a new one.
        post("/api/v1/knowledge/collections", All(&[KnowledgeWrite]), CREATED)
            .body(|e| json!({"name": e.collection_name, "dimension": 2})),
        get("/api/v1/knowledge/collections/{id}", All(&[KnowledgeRead]), NotFound),
        delete("/api/v1/knowledge/collections/{id}", All(&[KnowledgeWrite]), NotFound),
        get("/api/v1/knowledge", All(&[KnowledgeRead]), OK).query("tags=ops"),
        post("/api/v1/knowledge", All(&[KnowledgeWrite]), Reference("project_id"))
            .body(|e| json!({"title": "Notes", "content": "text", "project_id": e.project})),
        get("/api/v1/knowledge/{id}", All(&[KnowledgeRead]), NotFound),
        patch("/api/v1/knowledge/{id}", All(&[KnowledgeWrite]), NotFound)
            .body(|_| json!({"title": "changed"})),
        delete("/api/v1/knowledge/{id}", All(&[KnowledgeWrite]), NotFound),
        // A's item is unpublished: it is in no other organization's search, list or reach.
        post("/api/v1/marketplace/search", All(&[MarketplaceRead]), OK)
            .body(|_| json!({"query": "rocket pipeline"})),
        get("/api/v1/marketplace/installs", All(&[MarketplaceRead]), OK),
        get("/api/v1/marketplace", All(&[MarketplaceRead]), OK),
        post(
            "/api/v1/marketplace",
            All(&[MarketplacePublish]),
            Reference("workflow_id"),
        )
        .body(|e| json!({"workflow_id": e.workflow})),
        get("/api/v1/marketplace/{id}", All(&[MarketplaceRead]), NotFound),
        delete("/api/v1/marketplace/{id}", All(&[MarketplacePublish]), NotFound),
        // A workflow item; a template item needs `templates:write` instead.
        post(
            "/api/v1/marketplace/{id}/install",
            All(&[MarketplaceRead, WorkflowsWrite]),
            NotFound,
        )
        .body(|_| json!({"name": "Installed by the matrix"})),
        get("/api/v1/learning-records", All(&[LearningRead]), OK),
        post("/api/v1/learning-records", All(&[LearningWrite]), CREATED).body(|_| {
            json!({"pattern": "pattern.matrix", "outcome": "failure", "score": 0})
        }),
        get("/api/v1/learning-records/{id}", All(&[LearningRead]), NotFound),
        get("/api/v1/analytics/workflows", All(&[AnalyticsRead]), OK),
        get("/api/v1/analytics/workflows/{id}/daily", All(&[AnalyticsRead]), NotFound),
        get("/api/v1/analytics/task-kinds", All(&[AnalyticsRead]), OK),
        get("/api/v1/analytics/templates", All(&[AnalyticsRead]), OK),
        get("/api/v1/points", All(&[CollaborationRead]), OK),
        post("/api/v1/points", All(&[CollaborationWrite]), Reference("holder")).body(|e| {
            json!({"holder": {"kind": "agent", "id": e.agent}, "points": 5,
                   "reason": "helped", "source": "review"})
        }),
        get("/api/v1/points/{id}", All(&[CollaborationRead]), NotFound),
        get("/api/v1/agents/{id}/standing", All(&[CollaborationRead]), NotFound),
        get("/api/v1/users/{id}/standing", All(&[CollaborationRead]), NotFound),
        post("/api/v1/matches", All(&[CollaborationWrite]), Reference("agents"))
            .body(|e| json!({"agents": [e.agent, e.rival], "challenge": "chess"})),
        get("/api/v1/matches/{id}", All(&[CollaborationRead]), NotFound),
        post("/api/v1/matches/{id}/result", All(&[CollaborationWrite]), NotFound)
            .body(|e| json!({"placements": {e.agent.as_str(): 1, e.rival.as_str(): 2}})),
        get("/api/v1/agents/{id}/rating-history", All(&[CollaborationRead]), NotFound),
        post("/api/v1/reputation-events", All(&[CollaborationWrite]), Reference("agent_id"))
            .body(|e| {
                json!({"agent_id": e.agent, "dimension": "trust", "delta": 5,
                       "reason": "helpful"})
            }),
        get("/api/v1/agents/{id}/reputation", All(&[CollaborationRead]), NotFound)
            .query("as_of=2026-11-27T00:00:00Z"),
        get("/api/v1/agents/{id}/reputation-events", All(&[CollaborationRead]), NotFound),
        // The agent is checked first.
        post("/api/v1/agents/{id}/task-outcomes", All(&[CollaborationWrite]), Reference("agent_id"))
            .body(|e| json!({"task_id": e.task, "succeeded": true})),
        // At a fixed instant, so that two reads answer alike.
        get("/api/v1/leaderboards", All(&[CollaborationRead]), OK)
            .query("period=month&as_of=2026-11-27T00:00:00Z"),
        get("/api/v1/collaboration/settings", All(&[CollaborationRead]), OK),
        put("/api/v1/collaboration/settings", All(&[CollaborationAdmin]), OK).body(|_| {
            json!({"level_thresholds": [{"experience": 0, "tier": "bronze"}],
                   "k_factor": 32, "provisional_k_factor": 64, "provisional_matches": 10})
        }),
        get("/api/v1/proposals", All(&[CollaborationRead]), OK),
        // B's own proposal.
        post("/api/v1/proposals", All(&[CollaborationWrite]), CREATED).body(|_| {
            json!({"title": "Matrix", "closes_at": "2999-01-01T00:00:00Z", "threshold": 0.5})
        }),
        get("/api/v1/proposals/{id}", All(&[CollaborationRead]), NotFound),
        get("/api/v1/proposals/{id}/votes", All(&[CollaborationRead]), NotFound),
        // The caller votes as itself.
        post("/api/v1/proposals/{id}/votes", All(&[CollaborationWrite]), NotFound)
            .body(|_| json!({"option": "yes"})),
        post("/api/v1/proposals/{id}/close", All(&[CollaborationAdmin]), NotFound),
        post("/api/v1/proposals/{id}/cancel", All(&[CollaborationAdmin]), NotFound),
        get("/api/v1/schedules", All(&[TasksRead]), OK),
        post("/api/v1/schedules", All(&[TasksWrite]), Reference("project_id")).body(|e| {
            json!({"name": "Matrix", "cron": "0 0 1 1 *",
                   "task": {"project_id": e.project, "title": "Matrix"}})
        }),
        get("/api/v1/schedules/{id}", All(&[TasksRead]), NotFound),
        patch("/api/v1/schedules/{id}", All(&[TasksWrite]), NotFound)
            .body(|_| json!({"misfire_policy": "catch_up_one"})),
        delete("/api/v1/schedules/{id}", All(&[TasksWrite]), NotFound),
        post("/api/v1/schedules/{id}/pause", All(&[TasksWrite]), NotFound),
        post("/api/v1/schedules/{id}/resume", All(&[TasksWrite]), NotFound),
        get("/api/v1/schedules/{id}/next", All(&[TasksRead]), NotFound),
        get("/api/v1/rate-limits", All(&[TasksRead]), OK),
        post("/api/v1/rate-limits", All(&[TasksWrite]), CREATED)
            .body(|_| json!({"name": "matrix", "capacity": 10, "period_seconds": 60})),
        get("/api/v1/rate-limits/{name}", All(&[TasksRead]), NotFound),
        patch("/api/v1/rate-limits/{name}", All(&[TasksWrite]), NotFound)
            .body(|_| json!({"capacity": 5})),
        delete("/api/v1/rate-limits/{name}", All(&[TasksWrite]), NotFound),
        get("/api/v1/achievement-definitions", All(&[CollaborationRead]), OK),
        post("/api/v1/achievement-definitions", All(&[CollaborationAdmin]), CREATED).body(|e| {
            json!({"code": e.achievement_code, "name": "First review", "description": "d"})
        }),
        get("/api/v1/achievement-definitions/{id}", All(&[CollaborationRead]), NotFound),
        post("/api/v1/achievements", All(&[CollaborationWrite]), Reference("definition_id")).body(
            |e| {
                json!({"definition_id": e.achievement_definition,
                       "holder": {"kind": "agent", "id": e.agent}})
            },
        ),
        get("/api/v1/agents/{id}/summary", All(&[CollaborationRead]), NotFound),
        get("/api/v1/users/{id}/summary", All(&[CollaborationRead]), NotFound),
        get("/api/v1/leaderboards/settings", All(&[CollaborationRead]), OK),
        put("/api/v1/leaderboards/settings", All(&[CollaborationAdmin]), OK)
            .body(|_| json!({"points": 1.0, "rating": 1.0, "reputation": 1.0})),
        get("/api/v1/leaderboards/snapshots", All(&[CollaborationRead]), OK),
        post("/api/v1/leaderboards/snapshots", All(&[CollaborationAdmin]), CREATED)
            .body(|_| json!({"kind": "points"})),
        get("/api/v1/leaderboards/snapshots/{id}", All(&[CollaborationRead]), NotFound),
        get("/api/v1/leaderboards/hall-of-fame", All(&[CollaborationRead]), OK),
        get("/api/v1/audit-logs", All(&[AuditRead]), OK),
        get("/api/v1/audit-logs/verification", All(&[AuditRead]), OK),
        // Instance-wide: only the operating organization's callers see it.
        get("/api/v1/admin/database", All(&[SystemRead]), Clean(StatusCode::FORBIDDEN)),
        get("/api/v1/events", All(&[EventsRead]), OK),
        post("/api/v1/events", All(&[EventsWrite]), Reference("project_id"))
            .body(|e| json!({"kind": "task.claimed", "source": "scheduler", "project_id": e.project})),
        get("/api/v1/events/{id}", All(&[EventsRead]), NotFound),
        get("/api/v1/components/health", All(&[ComponentsRead]), OK),
        get("/api/v1/components", All(&[ComponentsRead]), OK),
        post("/api/v1/components", All(&[ComponentsWrite]), CREATED)
            .body(|e| json!({"name": e.component_name, "kind": "service"})),
        get("/api/v1/components/{id}", All(&[ComponentsRead]), NotFound),
        patch("/api/v1/components/{id}", All(&[ComponentsWrite]), NotFound)
            .body(|_| json!({"status": "maintenance"})),
        get("/api/v1/components/{id}/health", All(&[ComponentsRead]), NotFound),
        post("/api/v1/components/{id}/health", All(&[ComponentsReport]), NotFound)
            .body(|_| json!({"status": "down"})),
        get("/api/v1/component-communications", All(&[ComponentsRead]), OK)
            .query("component_id={components}"),
        post(
            "/api/v1/component-communications",
            All(&[ComponentsReport]),
            Reference("from_component_id"),
        )
        .body(|e| {
            json!({"from_component_id": e.component, "to_component_id": e.component,
                   "kind": "loopback", "payload_bytes": 1, "latency_ms": 0.5,
                   "outcome": "success"})
        }),
        post("/api/v1/metrics", All(&[MetricsWrite]), Reference("component_id"))
            .body(|e| json!({"component_id": e.component, "name": "latency_ms", "value": 1})),
        get("/api/v1/metrics/query", All(&[MetricsRead]), NotFound).query(
            "component_id={components}&name=latency_ms&since=2020-01-01T00:00:00Z\
             &until=2020-01-02T00:00:00Z&bucket=hour",
        ),
        get("/api/v1/alerts", All(&[AlertsRead]), OK),
        post("/api/v1/alerts", All(&[AlertsWrite]), CREATED)
            .body(|e| json!({"severity": "warning", "source": "db", "message": format!("lag of {}", e.component_name)})),
        get("/api/v1/alerts/{id}", All(&[AlertsRead]), NotFound),
        post("/api/v1/alerts/{id}/acknowledge", All(&[AlertsWrite]), NotFound),
        post("/api/v1/alerts/{id}/resolve", All(&[AlertsWrite]), NotFound),
        get("/api/v1/rewards", All(&[CollaborationRead]), OK),
        post("/api/v1/rewards", All(&[CollaborationAdmin]), Reference("recipient")).body(|e| {
            json!({"recipient": {"kind": "agent", "id": e.agent}, "kind": "badge",
                   "badge": "helper", "reason": "helped"})
        }),
        get("/api/v1/rewards/{id}", All(&[CollaborationRead]), NotFound),
        // An administrator redeems it for the agent; anyone else is not its recipient (422).
        post("/api/v1/rewards/{id}/redeem", All(&[CollaborationWrite]), NotFound),
        get("/api/v1/violations", All(&[CollaborationRead]), OK),
        post("/api/v1/violations", All(&[CollaborationAdmin]), Reference("offender")).body(|e| {
            json!({"offender": {"kind": "agent", "id": e.agent}, "rule": "be kind",
                   "severity": "low", "evidence": "a rude message"})
        }),
        get("/api/v1/violations/{id}", All(&[CollaborationRead]), NotFound),
        get("/api/v1/penalties", All(&[CollaborationRead]), OK),
        post("/api/v1/penalties", All(&[CollaborationAdmin]), Reference("violation_id")).body(
            |e| json!({"violation_id": e.violation, "kind": "points", "points": 1, "reason": "rude"}),
        ),
        get("/api/v1/penalties/{id}", All(&[CollaborationRead]), NotFound),
        get("/api/v1/appeals", All(&[CollaborationRead]), OK),
        // Only the owner's own penalty is theirs to appeal, and it has an open appeal (409);
        // anyone else gets a 422.
        post("/api/v1/appeals", All(&[CollaborationWrite]), Reference("penalty_id"))
            .body(|e| json!({"penalty_id": e.penalty, "reason": "unfair"})),
        get("/api/v1/appeals/{id}", All(&[CollaborationRead]), NotFound),
        post("/api/v1/appeals/{id}/decision", All(&[CollaborationAdmin]), NotFound)
            .body(|_| json!({"outcome": "upheld", "reason": "the message was rude"})),
        get("/api/v1/sanctions/summary", All(&[CollaborationRead]), OK),
        post("/api/v1/sanctions/sweep", All(&[CollaborationAdmin]), OK),
        get("/api/v1/agents/{id}/sanctions", All(&[CollaborationRead]), NotFound),
        get("/api/v1/users/{id}/sanctions", All(&[CollaborationRead]), NotFound),
        get("/api/v1/brainstorms", All(&[CollaborationRead]), OK),
        post("/api/v1/brainstorms", All(&[CollaborationWrite]), Reference("project_id"))
            .body(|e| json!({"topic": "Mascots", "project_id": e.project})),
        get("/api/v1/brainstorms/{id}", All(&[CollaborationRead]), NotFound),
        // The set's facilitator is its owner: any other caller needs collaboration:admin too.
        post(
            "/api/v1/brainstorms/{id}/close",
            All(&[CollaborationWrite, CollaborationAdmin]),
            NotFound,
        ),
        get("/api/v1/brainstorms/{id}/ideas", All(&[CollaborationRead]), NotFound),
        post("/api/v1/brainstorms/{id}/ideas", All(&[CollaborationWrite]), NotFound)
            .body(|_| json!({"text": "Orbit"})),
        post("/api/v1/brainstorms/{id}/ideas/{idea_id}/votes", All(&[CollaborationWrite]), NotFound)
            .body(|_| json!({})),
        delete("/api/v1/brainstorms/{id}/ideas/{idea_id}/votes", All(&[CollaborationWrite]), NotFound),
        get("/api/v1/brainstorms/{id}/top-ideas", All(&[CollaborationRead]), NotFound),
        get("/api/v1/brainstorms/{id}/stats", All(&[CollaborationRead]), NotFound),
        get("/api/v1/mentorships", All(&[CollaborationRead]), OK),
        post("/api/v1/mentorships", All(&[CollaborationWrite]), Reference("mentor")).body(|e| {
            json!({"mentor": {"kind": "agent", "id": e.agent},
                   "mentee": {"kind": "user", "id": e.owner}, "goals": ["ship"]})
        }),
        get("/api/v1/mentorships/{id}", All(&[CollaborationRead]), NotFound),
        // Neither the set's mentor nor its mentee: the caller needs collaboration:admin too.
        post(
            "/api/v1/mentorships/{id}/status",
            All(&[CollaborationWrite, CollaborationAdmin]),
            NotFound,
        )
        .body(|_| json!({"status": "active"})),
        get("/api/v1/mentorships/{id}/sessions", All(&[CollaborationRead]), NotFound),
        post("/api/v1/mentorships/{id}/sessions", All(&[CollaborationWrite]), NotFound)
            .body(|_| json!({"duration_minutes": 30, "progress": 50})),
        get("/api/v1/agents/{id}/mentor-stats", All(&[CollaborationRead]), NotFound),
        get("/api/v1/users/{id}/mentor-stats", All(&[CollaborationRead]), NotFound),
        get("/api/openapi.json", Nothing, OK),
    ]
}

/// Each route the server serves has exactly one row, and each row is a route it serves.
#[test]
fn every_route_has_one_row() {
    let served: BTreeSet<(String, String)> = orchestore_server::route_table()
        .into_iter()
        .map(|(method, path)| (method.to_owned(), path))
        .collect();
    let rows = rows();
    let mut listed = BTreeSet::new();
    for row in &rows {
        let key = (row.method.to_string(), row.route.to_owned());
        assert!(listed.insert(key.clone()), "{key:?} has two rows");
    }
    let missing: Vec<_> = served.difference(&listed).collect();
    let unknown: Vec<_> = listed.difference(&served).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "routes without a row in tests/api/matrix/mod.rs: {missing:?}; rows without a route: \
         {unknown:?}"
    );
    assert_eq!(rows.len(), served.len());
}

/// The methods a route table entry lists are the ones its path answers: any other of the
/// usual methods is a 405 naming them, so no method is served without being listed.
pub async fn every_path_answers_only_its_methods(app: &TestApp) {
    let token = app.admin_token().await;
    let mut allowed: Vec<(String, Vec<&str>)> = Vec::new();
    for (method, path) in orchestore_server::route_table() {
        match allowed.iter_mut().find(|(p, _)| *p == path) {
            Some((_, methods)) => methods.push(method),
            None => allowed.push((path, vec![method])),
        }
    }
    for (route, methods) in &allowed {
        // The 405 comes before any parameter is read: any id will do.
        let path: Vec<&str> = route
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "0"
                } else {
                    segment
                }
            })
            .collect();
        let path = path.join("/");
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            if methods.contains(&method.as_str()) {
                continue;
            }
            let reply = app
                .send(method.clone(), &path, Some(&token), Some(json!({})))
                .await;
            assert_eq!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {route}: {}",
                reply.body
            );
            assert_eq!(reply.header("allow"), with_head(methods), "{route}");
        }
    }
}

/// The `Allow` header of a resource with `methods`: HEAD is answered wherever GET is.
fn with_head(methods: &[&str]) -> String {
    methods
        .iter()
        .flat_map(|method| match *method {
            "GET" => vec!["GET", "HEAD"],
            other => vec![other],
        })
        .collect::<Vec<_>>()
        .join(", ")
}
