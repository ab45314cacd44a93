//! One of everything an organization holds, created through the API, and the ids the matrices
//! put into paths and bodies.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// One of each row an organization can hold, all live and related as they are in use: a task
/// `running` under a lease that depends on a `succeeded` one and has a `blocked` dependent; an
/// agent with an API key; a message about the task in a thread; a workflow with a version and
/// an execution; a task template used once and a workflow template; a custom role held by a
/// user; a session of the owner's besides the callers'; and telemetry: a component with a
/// health check, a communication and a metric sample, an event about the project and an open
/// alert.
pub struct Everything {
    pub organization_slug: String,
    pub owner_email: String,
    pub owner: String,
    pub project: String,
    pub project_name: String,
    /// Succeeded; `task` depends on it.
    pub dependency: String,
    /// Running, claimed by `agent` under `lease_token`.
    pub task: String,
    pub lease_token: String,
    /// Blocked on `task`.
    pub dependent: String,
    pub agent: String,
    pub agent_name: String,
    pub api_key: String,
    /// The key's `osk_…` secret: an agent's credentials.
    pub api_key_secret: String,
    /// A key of the owner's.
    pub user_key: String,
    /// A pending invitation.
    pub invitation: String,
    pub message: String,
    pub thread: String,
    pub workflow: String,
    pub workflow_name: String,
    pub execution: String,
    /// A learning record, with `tag` in its pattern and context.
    pub learning_record: String,
    /// A task template, used once (`usage`).
    pub template: String,
    pub template_name: String,
    pub usage: String,
    pub workflow_template: String,
    pub role: String,
    pub role_code: String,
    /// A user holding `role`.
    pub user: String,
    pub user_email: String,
    /// A session of the owner's that no caller uses.
    pub session: String,
    /// A collection of vectors of dimension 2.
    pub collection: String,
    pub collection_name: String,
    /// An entry of `project` with a vector in `collection`.
    pub knowledge_entry: String,
    /// `workflow`'s version published, installed once as `Installed <tag>` and unpublished:
    /// no other organization sees it.
    pub marketplace_item: String,
    pub component: String,
    pub component_name: String,
    pub event: String,
    pub alert: String,
    /// A second agent, `agent`'s rival in `rated_match` (open).
    pub rival: String,
    pub rated_match: String,
    /// Points awarded to `agent`.
    pub point_award: String,
    /// A badge allocated to `agent`, not redeemed.
    pub reward: String,
    /// A violation of the owner's, a points penalty for it, and the owner's open appeal.
    pub violation: String,
    pub penalty: String,
    pub appeal: String,
    /// An open brainstorm facilitated by the owner, with the owner's idea `idea`; neither
    /// goes with a row another route deletes (`agent`, `project`).
    pub brainstorm: String,
    pub idea: String,
    /// A proposed mentorship: the owner mentors `rival`.
    pub mentorship: String,
    /// An open yes/no proposal, open to everyone, that `agent` voted on.
    pub proposal: String,
    /// An achievement `agent` has earned, and its code.
    pub achievement_definition: String,
    pub achievement_code: String,
    /// A snapshot of the points leaderboard.
    pub snapshot: String,
    /// A yearly schedule of a task in `project`.
    pub schedule: String,
    /// A rate limit's name (its routes name it, not its id).
    pub rate_limit: String,
}

/// An operation of the step `build` that every set's workflow has.
pub fn step_body() -> Value {
    json!({"step": "build", "operation": "cargo.build", "input_bytes": 10, "output_bytes": 20,
           "outcome": "succeeded", "started_at": "2026-11-27T10:00:00Z",
           "finished_at": "2026-11-27T10:00:01.5Z"})
}

impl Everything {
    /// Creates it all in `organization` as its owner; `tag` keeps the names of several sets in
    /// one organization apart.
    pub async fn create(
        app: &TestApp,
        organization: &str,
        owner_email: &str,
        owner_password: &str,
        tag: &str,
    ) -> Self {
        let token = &app
            .token_in(organization, owner_email, owner_password)
            .await;
        let made = async |path: &str, body: Value| -> Value {
            let reply = app.post(token, path, body).await;
            assert!(
                reply.status == StatusCode::CREATED || reply.status == StatusCode::OK,
                "POST {path}: {} {}",
                reply.status,
                reply.body
            );
            reply.body
        };
        let id = |value: &Value| value["id"].as_str().expect("an id").to_owned();

        let owner = id(&app.get(token, "/api/v1/me").await.body["user"]);
        let project_name = format!("Project {tag}");
        let project = id(&made("/api/v1/projects", json!({ "name": project_name })).await);
        let agent_name = format!("Agent {tag}");
        let agent = id(&made(
            "/api/v1/agents",
            json!({ "name": agent_name, "kind": "ai" }),
        )
        .await);
        let key = made(
            &format!("/api/v1/agents/{agent}/api-keys"),
            json!({ "name": "worker host" }),
        )
        .await;
        let user_key = id(&made("/api/v1/me/api-keys", json!({ "name": "ci service" })).await);
        let invitation = id(&made(
            "/api/v1/invitations",
            json!({ "email": format!("invited-{tag}@{organization}.test") }),
        )
        .await);

        let new_task = |title: &str, depends_on: &[&str]| json!({ "project_id": project, "title": title, "depends_on": depends_on });
        let claim = async |task: &str| -> String {
            let claimed = made(
                &format!("/api/v1/tasks/{task}/claim"),
                json!({ "agent_id": agent }),
            )
            .await;
            claimed["lease_token"]
                .as_str()
                .expect("a lease token")
                .to_owned()
        };
        let dependency = id(&made("/api/v1/tasks", new_task("first", &[])).await);
        let dependency_lease = claim(&dependency).await;
        made(
            &format!("/api/v1/tasks/{dependency}/complete"),
            json!({ "lease_token": dependency_lease }),
        )
        .await;
        let task = id(&made("/api/v1/tasks", new_task("second", &[&dependency])).await);
        let lease_token = claim(&task).await;
        let dependent = id(&made("/api/v1/tasks", new_task("third", &[&task])).await);

        let thread = uuid::Uuid::new_v4().to_string();
        let message = id(&made(
            "/api/v1/messages",
            json!({
                "recipient": { "kind": "agent", "id": agent },
                "content": "please look at the second task",
                "task_id": task,
                "thread_id": thread,
            }),
        )
        .await);

        let rival = id(&made(
            "/api/v1/agents",
            json!({ "name": format!("Rival {tag}"), "kind": "ai" }),
        )
        .await);
        let rated_match = id(&made(
            "/api/v1/matches",
            json!({ "agents": [agent, rival], "challenge": "sorting" }),
        )
        .await);
        let point_award = id(&made(
            "/api/v1/points",
            json!({
                "holder": { "kind": "agent", "id": agent },
                "points": 10,
                "reason": "reviewed",
                "source": "review",
            }),
        )
        .await);
        let achievement_code = format!("first-review-{tag}");
        let achievement_definition = id(&made(
            "/api/v1/achievement-definitions",
            json!({ "code": achievement_code, "name": "First review",
                    "description": "reviewed", "points": 5 }),
        )
        .await);
        made(
            "/api/v1/achievements",
            json!({ "definition_id": achievement_definition,
                    "holder": { "kind": "agent", "id": agent } }),
        )
        .await;
        let snapshot = id(&made(
            "/api/v1/leaderboards/snapshots",
            json!({ "kind": "points" }),
        )
        .await);

        let reward = id(&made(
            "/api/v1/rewards",
            json!({ "recipient": { "kind": "agent", "id": agent }, "kind": "badge",
                    "badge": format!("helper {tag}"), "reason": "helped" }),
        )
        .await);
        let violation = id(&made(
            "/api/v1/violations",
            json!({ "offender": { "kind": "user", "id": owner }, "rule": "be kind",
                    "severity": "low", "evidence": format!("a rude message {tag}") }),
        )
        .await);
        let penalty = id(&made(
            "/api/v1/penalties",
            json!({ "violation_id": violation, "kind": "points", "points": 1,
                    "reason": "rude" }),
        )
        .await);
        let appeal = id(&made(
            "/api/v1/appeals",
            json!({ "penalty_id": penalty, "reason": "it was a joke" }),
        )
        .await);
        let schedule = id(&made(
            "/api/v1/schedules",
            json!({
                "name": format!("Schedule {tag}"),
                "cron": "0 0 1 1 *",
                "task": { "project_id": project, "title": "New year" },
            }),
        )
        .await);
        let rate_limit = made(
            "/api/v1/rate-limits",
            json!({ "name": format!("bucket-{tag}"), "capacity": 10, "period_seconds": 60 }),
        )
        .await["name"]
            .as_str()
            .expect("a name")
            .to_owned();
        let proposal = id(&made(
            "/api/v1/proposals",
            json!({
                "title": format!("Proposal {tag}"),
                "closes_at": "2999-01-01T00:00:00Z",
                "threshold": 0.5,
            }),
        )
        .await);
        let voted = app
            .post(
                token,
                &format!("/api/v1/proposals/{proposal}/votes"),
                json!({ "option": "yes", "voter": { "kind": "agent", "id": agent } }),
            )
            .await;
        assert_eq!(voted.status, StatusCode::OK, "vote: {}", voted.body);

        let workflow_name = format!("Workflow {tag}");
        let workflow = id(&made("/api/v1/workflows", json!({ "name": workflow_name })).await);
        made(
            &format!("/api/v1/workflows/{workflow}/versions"),
            json!({ "definition": { "steps": [{ "name": "build" }] } }),
        )
        .await;
        let execution = id(&made(
            &format!("/api/v1/workflows/{workflow}/executions"),
            json!({ "project_id": project, "input": {} }),
        )
        .await);
        made(
            &format!("/api/v1/workflows/{workflow}/executions/{execution}/steps"),
            step_body(),
        )
        .await;
        let learning_record = id(&made(
            "/api/v1/learning-records",
            json!({"pattern": format!("pattern.{tag}"), "context": {"tag": tag},
                   "outcome": "success", "score": 0.5}),
        )
        .await);

        let template_name = format!("Template {tag}");
        let template = id(&made(
            "/api/v1/templates",
            json!({
                "name": template_name,
                "kind": "task",
                "body": { "tasks": [{ "title": "from the template" }] },
            }),
        )
        .await);
        let used = made(
            &format!("/api/v1/templates/{template}/instantiate"),
            json!({ "project_id": project }),
        )
        .await;
        let workflow_template = id(&made(
            "/api/v1/templates",
            json!({
                "name": format!("Workflow template {tag}"),
                "kind": "workflow",
                "body": { "steps": [{ "name": "ship" }] },
            }),
        )
        .await);

        let role_code = format!("reviewer-{tag}");
        let role = id(&made(
            "/api/v1/roles",
            json!({ "code": role_code, "permissions": ["tasks:read"] }),
        )
        .await);
        let user_email = format!("user-{tag}@{organization}.test");
        let user = id(&app.create_user(token, &user_email, &[&role_code]).await);

        let collection_name = format!("model-{tag}");
        let collection = id(&made(
            "/api/v1/knowledge/collections",
            json!({ "name": collection_name, "dimension": 2 }),
        )
        .await);
        let knowledge_entry = id(&made(
            "/api/v1/knowledge",
            json!({
                "title": format!("Rocket fuel {tag}"),
                "content": "Keep the rocket fuel cold.",
                "project_id": project,
                "embeddings": { collection_name.clone(): [1.0, 0.0] },
            }),
        )
        .await);
        let marketplace_item = id(&made(
            "/api/v1/marketplace",
            json!({ "workflow_id": workflow, "readme": "rocket pipeline" }),
        )
        .await);
        made(
            &format!("/api/v1/marketplace/{marketplace_item}/install"),
            json!({ "name": format!("Installed {tag}") }),
        )
        .await;
        let unpublished = app
            .delete(token, &format!("/api/v1/marketplace/{marketplace_item}"))
            .await;
        assert_eq!(unpublished.status, StatusCode::OK, "{}", unpublished.body);

        let other_login = app
            .token_in(organization, owner_email, owner_password)
            .await;
        let sessions = app.get(&other_login, "/api/v1/sessions").await.body;
        let session = sessions["items"]
            .as_array()
            .expect("sessions")
            .iter()
            .find(|session| session["current"] == true)
            .map(id)
            .expect("the current session");

        let component_name = format!("Component {tag}");
        let component = id(&made(
            "/api/v1/components",
            json!({ "name": component_name, "kind": "service" }),
        )
        .await);
        made(
            &format!("/api/v1/components/{component}/health"),
            json!({ "status": "degraded" }),
        )
        .await;
        made(
            "/api/v1/component-communications",
            json!({ "from_component_id": component, "to_component_id": component,
                    "kind": "loopback", "payload_bytes": 1, "latency_ms": 0.5,
                    "outcome": "success" }),
        )
        .await;
        made(
            "/api/v1/metrics",
            json!({ "component_id": component, "name": "latency_ms", "value": 3 }),
        )
        .await;
        let event = id(&made(
            "/api/v1/events",
            json!({ "kind": "task.claimed", "source": "scheduler", "project_id": project,
                    "task_id": task }),
        )
        .await);
        let alert = id(&made(
            "/api/v1/alerts",
            json!({ "severity": "warning", "source": "db", "message": format!("lag {tag}") }),
        )
        .await);

        let brainstorm = id(&made(
            "/api/v1/brainstorms",
            json!({ "topic": format!("Names {tag}") }),
        )
        .await);
        let idea = id(&made(
            &format!("/api/v1/brainstorms/{brainstorm}/ideas"),
            json!({ "text": format!("Nova {tag}") }),
        )
        .await);
        let mentorship = id(&made(
            "/api/v1/mentorships",
            json!({ "mentor": { "kind": "user", "id": owner },
                    "mentee": { "kind": "agent", "id": rival }, "goals": ["ship"] }),
        )
        .await);

        Self {
            organization_slug: organization.to_owned(),
            owner_email: owner_email.to_owned(),
            owner,
            project,
            project_name,
            dependency,
            task,
            lease_token,
            dependent,
            agent,
            agent_name,
            api_key: id(&key),
            api_key_secret: key["secret"].as_str().expect("a secret").to_owned(),
            user_key,
            invitation,
            message,
            thread,
            workflow,
            workflow_name,
            execution,
            learning_record,
            template,
            template_name,
            usage: id(&used["usage"]),
            workflow_template,
            role,
            role_code,
            user,
            user_email,
            session,
            collection,
            collection_name,
            knowledge_entry,
            marketplace_item,
            component,
            component_name,
            event,
            alert,
            rival,
            rated_match,
            point_award,
            reward,
            violation,
            penalty,
            appeal,
            brainstorm,
            idea,
            mentorship,
            proposal,
            achievement_definition,
            achievement_code,
            snapshot,
            schedule,
            rate_limit,
        }
    }

    /// A query string with each `{collection}` replaced by the id of this set that [`fill`]
    /// puts after `/collection`: `component_id={components}` names this set's component;
    /// `{owner_email}` is the address of the set's owner.
    ///
    /// [`fill`]: Self::fill
    pub fn fill_query(&self, query: &str) -> String {
        let mut filled = String::new();
        let mut rest = query;
        while let Some((before, after)) = rest.split_once('{') {
            let (collection, tail) = after
                .split_once('}')
                .unwrap_or_else(|| panic!("{query}: an unclosed parameter"));
            filled.push_str(before);
            let value = match collection {
                "owner_email" => Some(self.owner_email.as_str()),
                _ => self.id_in(collection),
            };
            filled.push_str(value.unwrap_or_else(|| panic!("{query}: no id for {{{collection}}}")));
            rest = tail;
        }
        filled.push_str(rest);
        filled
    }

    /// `route` with each `{parameter}` replaced by the id of this set that the segment before
    /// it names: `/api/v1/tasks/{id}/dependencies/{depends_on}` is the running task and the
    /// task it depends on.
    pub fn fill(&self, route: &str) -> String {
        let mut filled = Vec::new();
        let segments: Vec<&str> = route.split('/').collect();
        for (i, segment) in segments.iter().enumerate() {
            if segment.starts_with('{') {
                let collection = segments[i - 1];
                // Under an agent, a key is the agent's; elsewhere a user's.
                if collection == "api-keys" && !route.starts_with("/api/v1/agents/") {
                    filled.push(self.user_key.as_str());
                    continue;
                }
                filled.push(self.id_in(collection).unwrap_or_else(|| {
                    panic!("{route}: no id for a parameter after /{collection}")
                }));
            } else {
                filled.push(segment);
            }
        }
        filled.join("/")
    }

    fn id_in(&self, collection: &str) -> Option<&str> {
        Some(match collection {
            "projects" => &self.project,
            "tasks" => &self.task,
            "dependencies" => &self.dependency,
            "agents" => &self.agent,
            "api-keys" => &self.api_key,
            "messages" => &self.message,
            "workflows" => &self.workflow,
            "versions" => "1",
            "executions" => &self.execution,
            "signals" => "approve",
            "templates" => &self.template,
            "roles" => &self.role,
            "users" => &self.user,
            "sessions" => &self.session,
            "invitations" => &self.invitation,
            "collections" => &self.collection,
            "knowledge" => &self.knowledge_entry,
            "marketplace" => &self.marketplace_item,
            "learning-records" => &self.learning_record,
            "components" => &self.component,
            "events" => &self.event,
            "alerts" => &self.alert,
            "points" => &self.point_award,
            "matches" => &self.rated_match,
            "rewards" => &self.reward,
            "violations" => &self.violation,
            "penalties" => &self.penalty,
            "appeals" => &self.appeal,
            "brainstorms" => &self.brainstorm,
            "ideas" => &self.idea,
            "mentorships" => &self.mentorship,
            "proposals" => &self.proposal,
            "schedules" => &self.schedule,
            "rate-limits" => &self.rate_limit,
            "achievement-definitions" => &self.achievement_definition,
            "snapshots" => &self.snapshot,
            _ => return None,
        })
    }
}
