//! `/api/v1/templates`.

use orchestore_testkit::Fixture;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

pub async fn template_lifecycle(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Apollo").await;
    let created = app
        .post(
            &token,
            "/api/v1/templates",
            json!({
                "name": "Code review",
                "kind": "task",
                "parameters": [{"name": "repo", "required": true}, {"name": "priority", "default": 3}],
                "body": {"tasks": [
                    {"title": "Review {{repo}}", "priority": "{{priority}}"},
                    {"title": "Merge {{repo}}"}
                ]},
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        created.header("location"),
        format!("/api/v1/templates/{id}")
    );
    assert_eq!(created.body["usage_count"], 0);

    let used = app
        .post(
            &token,
            &format!("/api/v1/templates/{id}/instantiate"),
            json!({"project_id": project["id"], "arguments": {"repo": "orchestore", "priority": 8}}),
        )
        .await;
    assert_eq!(used.status, StatusCode::CREATED, "{}", used.body);
    let tasks = used.body["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0]["title"], "Review orchestore");
    assert_eq!(tasks[0]["priority"], 8);
    assert_eq!(ids(&used.body["tasks"]), app.task_ids(&token, "").await);

    let usages = app
        .get(&token, &format!("/api/v1/templates/{id}/usages"))
        .await;
    assert_eq!(usages.status, StatusCode::OK);
    assert_eq!(
        usages.body["items"][0]["created_entities"],
        json!(ids(&used.body["tasks"]))
    );
    let read = app.get(&token, &format!("/api/v1/templates/{id}")).await;
    assert_eq!(read.body["usage_count"], 1);

    let patched = app
        .patch(
            &token,
            &format!("/api/v1/templates/{id}"),
            json!({"body": {"tasks": [{"title": "Only review {{repo}}"}]}}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(
        patched.body["body"]["tasks"][0]["title"],
        "Only review {{repo}}"
    );

    let deleted = app.delete(&token, &format!("/api/v1/templates/{id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&token, &format!("/api/v1/templates/{id}"))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

pub async fn template_input_is_checked(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Apollo").await;
    // An undeclared placeholder, a bad kind, bad parameters: each named.
    let undeclared = app
        .post(
            &token,
            "/api/v1/templates",
            json!({"name": "t", "kind": "task", "body": {"tasks": [{"title": "Fix {{bug}}"}]}}),
        )
        .await;
    assert_eq!(
        undeclared.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("body")
    );
    let bad = app
        .post(
            &token,
            "/api/v1/templates",
            json!({"name": "", "kind": "recipe", "parameters": [{"name": "Bad Name"}], "body": {}}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, vec!["kind", "name", "parameters"]);

    let created = app
        .post(
            &token,
            "/api/v1/templates",
            json!({"name": "Fix", "kind": "task", "parameters": [{"name": "bug", "required": true}],
                   "body": {"tasks": [{"title": "Fix {{bug}}"}]}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id");
    let missing = app
        .post(
            &token,
            &format!("/api/v1/templates/{id}/instantiate"),
            json!({"project_id": project["id"], "arguments": {}}),
        )
        .await;
    assert_eq!(
        missing.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("arguments")
    );
    assert!(
        app.task_ids(&token, "").await.is_empty(),
        "nothing was created"
    );
    app.get(&token, "/api/v1/templates?kind=recipe")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
}

/// A workflow template whose placeholders reach a step name, an edge, a number and text;
/// returns its id.
async fn create_release_template(app: &TestApp, token: &str) -> String {
    let created = app
        .post(
            token,
            "/api/v1/templates",
            json!({
                "name": "Release",
                "kind": "workflow",
                "parameters": [
                    {"name": "first", "required": true},
                    {"name": "attempts", "default": 2},
                    {"name": "env"}
                ],
                "body": {"steps": [
                    {"name": "{{first}}", "max_attempts": "{{attempts}}", "payload": {"env": "{{env}}"}},
                    {"name": "deploy", "title": "Deploy after {{first}}", "depends_on": ["{{first}}"]}
                ]},
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["id"].as_str().expect("id").to_owned()
}

async fn create_workflow(app: &TestApp, token: &str, name: &str) -> String {
    let created = app
        .post(token, "/api/v1/workflows", json!({ "name": name }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["id"].as_str().expect("id").to_owned()
}

/// What a workflow template and the workflows show: the usage count, the usage history, and
/// each workflow's versions.
async fn snapshot(app: &TestApp, token: &str, template: &str) -> Value {
    let read = app
        .get(token, &format!("/api/v1/templates/{template}"))
        .await;
    let usages = app
        .get(token, &format!("/api/v1/templates/{template}/usages"))
        .await;
    let workflows = app.get(token, "/api/v1/workflows").await;
    let mut versions = Vec::new();
    for id in ids(&workflows.body["items"]) {
        let listed = app
            .get(token, &format!("/api/v1/workflows/{id}/versions"))
            .await;
        versions.push(listed.body["items"].clone());
    }
    json!({
        "usage_count": read.body["usage_count"],
        "usages": usages.body["items"],
        "workflows": workflows.body["items"],
        "versions": versions,
    })
}

pub async fn workflow_template_lifecycle(app: &TestApp) {
    let token = app.admin_token().await;
    let template = create_release_template(app, &token).await;
    let workflow = create_workflow(app, &token, "Pipeline").await;
    let instantiate = format!("/api/v1/templates/{template}/instantiate");

    let used = app
        .post(
            &token,
            &instantiate,
            json!({"workflow_id": workflow, "arguments": {"first": "build", "env": "prod"}}),
        )
        .await;
    assert_eq!(used.status, StatusCode::CREATED, "{}", used.body);
    let location = format!("/api/v1/workflows/{workflow}/versions/1");
    assert_eq!(used.header("location"), location);
    let version = &used.body["version"];
    assert_eq!(version["workflow_id"], json!(workflow));
    assert_eq!(version["version"], 1);
    assert_eq!(
        version["definition"],
        json!({"steps": [
            {"name": "build", "title": "build", "required_capabilities": [],
             "payload": {"env": "prod"}, "depends_on": [], "max_attempts": 2},
            {"name": "deploy", "title": "Deploy after build", "required_capabilities": [],
             "payload": null, "depends_on": ["build"], "max_attempts": 3}
        ]})
    );
    let read = app.get(&token, &location).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(&read.body, version);
    let usage = &used.body["usage"];
    assert_eq!(
        usage["workflow_version"],
        json!({"workflow_id": workflow, "version": 1})
    );
    assert_eq!(usage["created_entities"], json!([version["id"]]));
    assert_eq!(usage["arguments"], json!({"first": "build", "env": "prod"}));

    // Again, with the defaults: the next version of the same workflow.
    let again = app
        .post(
            &token,
            &instantiate,
            json!({"workflow_id": workflow, "arguments": {"first": "compile"}}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_eq!(
        again.header("location"),
        format!("/api/v1/workflows/{workflow}/versions/2")
    );
    assert_eq!(
        again.body["version"]["definition"]["steps"][0]["payload"],
        json!({"env": null})
    );
    let read = app
        .get(&token, &format!("/api/v1/workflows/{workflow}"))
        .await;
    assert_eq!(read.body["latest_version"], 2);

    // A new workflow, created with its version 1.
    let fresh = app
        .post(
            &token,
            &instantiate,
            json!({"workflow": {"name": "Nightly", "description": "every night"},
                   "arguments": {"first": "fetch"}}),
        )
        .await;
    assert_eq!(fresh.status, StatusCode::CREATED, "{}", fresh.body);
    let nightly = fresh.body["version"]["workflow_id"]
        .as_str()
        .expect("workflow id")
        .to_owned();
    assert_eq!(
        fresh.header("location"),
        format!("/api/v1/workflows/{nightly}/versions/1")
    );
    let read = app
        .get(&token, &format!("/api/v1/workflows/{nightly}"))
        .await;
    assert_eq!(read.body["name"], "Nightly");
    assert_eq!(read.body["description"], "every night");
    assert_eq!(read.body["latest_version"], 1);
    assert_eq!(
        fresh.body["usage"]["created_entities"],
        json!([nightly, fresh.body["version"]["id"]])
    );

    let read = app
        .get(&token, &format!("/api/v1/templates/{template}"))
        .await;
    assert_eq!(read.body["usage_count"], 3);
    let usages = app
        .get(&token, &format!("/api/v1/templates/{template}/usages"))
        .await;
    assert_eq!(
        usages.body["items"],
        json!([usage, again.body["usage"], fresh.body["usage"]])
    );
}

pub async fn workflow_instantiation_input_is_checked(app: &TestApp) {
    let token = app.admin_token().await;
    let template = create_release_template(app, &token).await;
    let workflow = create_workflow(app, &token, "Pipeline").await;
    let project = app.create_project(&token, "Apollo").await;
    let task_template = app
        .post(
            &token,
            "/api/v1/templates",
            json!({"name": "Fix", "kind": "task", "body": {"tasks": [{"title": "Fix it"}]}}),
        )
        .await;
    assert_eq!(task_template.status, StatusCode::CREATED);
    let task_template = task_template.body["id"].as_str().expect("id").to_owned();
    Fixture::create(app.store.as_ref(), "other", "another organization password").await;
    let other = app
        .token_in("other", "owner@other.test", "another organization password")
        .await;
    let theirs = create_workflow(app, &other, "Theirs").await;
    let instantiate = format!("/api/v1/templates/{template}/instantiate");
    let before = snapshot(app, &token, &template).await;

    // Arguments that do not fill the template in, or make a definition that does not check.
    for (arguments, why) in [
        (json!({}), "missing required parameter"),
        (
            json!({"first": "build", "colour": "red"}),
            "unknown parameter",
        ),
        (
            json!({"first": "deploy"}),
            "step name \"deploy\" is used by",
        ),
        (json!({"first": "Not A Step"}), "is not a step name"),
    ] {
        let refused = app
            .post(
                &token,
                &instantiate,
                json!({"workflow_id": workflow, "arguments": arguments}),
            )
            .await;
        assert_eq!(
            refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
            Some("arguments")
        );
        assert!(
            refused.body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains(why)),
            "{why}: {}",
            refused.body
        );
    }
    let good = json!({"first": "build"});
    // Another organization's workflow is as missing as no workflow.
    for missing in [theirs.clone(), uuid::Uuid::now_v7().to_string()] {
        let refused = app
            .post(
                &token,
                &instantiate,
                json!({"workflow_id": missing, "arguments": good}),
            )
            .await;
        assert_eq!(
            refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
            Some("workflow_id")
        );
    }
    // Each kind takes its own target.
    let task_into_workflow = app
        .post(
            &token,
            &format!("/api/v1/templates/{task_template}/instantiate"),
            json!({"workflow_id": workflow}),
        )
        .await;
    assert_eq!(
        task_into_workflow.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("template")
    );
    let workflow_into_project = app
        .post(
            &token,
            &instantiate,
            json!({"project_id": project["id"], "arguments": good}),
        )
        .await;
    assert_eq!(
        workflow_into_project.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("template")
    );
    // A new workflow: its name is checked, and must be free.
    let unnamed = app
        .post(
            &token,
            &instantiate,
            json!({"workflow": {"name": " "}, "arguments": good}),
        )
        .await;
    assert_eq!(
        unnamed.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("workflow.name")
    );
    let taken = app
        .post(
            &token,
            &instantiate,
            json!({"workflow": {"name": "PIPELINE"}, "arguments": good}),
        )
        .await;
    assert_eq!(
        taken.assert_problem(StatusCode::CONFLICT),
        Some("workflow.name")
    );
    // No target, or more than one: a malformed request, naming the fields.
    let none = app
        .post(&token, &instantiate, json!({"arguments": good}))
        .await;
    none.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(
        error_fields(&none.body),
        ["project_id", "workflow", "workflow_id"]
    );
    let both = app
        .post(
            &token,
            &instantiate,
            json!({"workflow_id": workflow, "workflow": {"name": "Twice"}, "arguments": good}),
        )
        .await;
    both.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(error_fields(&both.body), ["workflow", "workflow_id"]);
    // Another organization's template is not found.
    app.post(
        &other,
        &instantiate,
        json!({"workflow_id": theirs, "arguments": good}),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND);

    assert_eq!(
        snapshot(app, &token, &template).await,
        before,
        "nothing was written"
    );
    assert!(app.task_ids(&token, "").await.is_empty());

    // A custom role that may use templates but not write workflows.
    let role = app
        .post(
            &token,
            "/api/v1/roles",
            json!({"code": "template-user", "permissions": ["templates:write", "tasks:write"]}),
        )
        .await;
    assert_eq!(role.status, StatusCode::CREATED, "{}", role.body);
    app.create_user(&token, "templater@example.test", &["template-user"])
        .await;
    let templater = app.token("templater@example.test", USER_PASSWORD).await;
    let forbidden = app
        .post(
            &templater,
            &instantiate,
            json!({"workflow": {"name": "Sneaky"}, "arguments": good}),
        )
        .await;
    forbidden.assert_problem(StatusCode::FORBIDDEN);
    assert!(
        forbidden.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("workflows:write"))
    );
    assert_eq!(
        snapshot(app, &token, &template).await,
        before,
        "nothing was written"
    );
}

pub async fn a_workflow_template_is_run_in_one_call(app: &TestApp) {
    let token = app.admin_token().await;
    let template = create_release_template(app, &token).await;
    let project = app.create_project(&token, "Deliveries").await;
    let instantiate = format!("/api/v1/templates/{template}/instantiate");

    let ran = app
        .post(
            &token,
            &instantiate,
            json!({"workflow": {"name": "Nightly"}, "arguments": {"first": "build"},
                   "run": {"project_id": project["id"], "input": {"night": 1}, "priority": 3}}),
        )
        .await;
    assert_eq!(ran.status, StatusCode::CREATED, "{}", ran.body);
    let execution = &ran.body["execution"];
    let workflow = ran.body["version"]["workflow_id"].as_str().expect("id");
    let location = format!(
        "/api/v1/workflows/{workflow}/executions/{}",
        execution["id"].as_str().expect("id")
    );
    assert_eq!(ran.header("location"), location);
    assert_eq!(execution["status"], "running");
    assert_eq!(execution["version_id"], ran.body["version"]["id"]);
    assert_eq!(
        ran.body["usage"]["workflow_version"],
        json!({"workflow_id": workflow, "version": 1})
    );
    let steps = app.get(&token, &format!("{location}/tasks")).await;
    assert_eq!(steps.status, StatusCode::OK, "{}", steps.body);
    let names: Vec<&str> = steps.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|step| step["step_name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["build", "deploy"]);
    assert_eq!(steps.body["items"][0]["priority"], 3);
    assert_eq!(
        steps.body["items"][0]["payload"]["input"],
        json!({"night": 1})
    );

    // A run that is refused leaves nothing behind, the version and the usage included.
    let before = snapshot(app, &token, &template).await;
    let refused = app
        .post(
            &token,
            &instantiate,
            json!({"workflow": {"name": "Refused"}, "arguments": {"first": "build"},
                   "run": {"project_id": uuid::Uuid::now_v7(), "input": null}}),
        )
        .await;
    assert_eq!(
        refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("run.project_id")
    );
    let bad_input = app
        .post(
            &token,
            &instantiate,
            json!({"workflow_id": workflow, "arguments": {"first": "build"},
                   "run": {"project_id": project["id"], "input": "nul \u{0}", "priority": 0.5}}),
        )
        .await;
    bad_input.assert_problem(StatusCode::BAD_REQUEST);
    let bad_input = app
        .post(
            &token,
            &instantiate,
            json!({"workflow_id": workflow, "arguments": {"first": "build"},
                   "run": {"project_id": project["id"], "input": "nul \u{0}"}}),
        )
        .await;
    assert_eq!(
        bad_input.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("run.input")
    );
    let with_tasks = app
        .post(
            &token,
            &instantiate,
            json!({"project_id": project["id"], "arguments": {"first": "build"},
                   "run": {"project_id": project["id"], "input": null}}),
        )
        .await;
    assert_eq!(
        with_tasks.assert_problem(StatusCode::BAD_REQUEST),
        Some("run")
    );
    assert_eq!(snapshot(app, &token, &template).await, before);
}
