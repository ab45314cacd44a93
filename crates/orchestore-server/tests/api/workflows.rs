//! `/api/v1/workflows`, its versions and its executions.

use orchestore_domain::{Email, Name, NewUser, OrganizationId, Password, PasswordHash, SystemRole};
use orchestore_repo::Ctx;
use orchestore_testkit::TEST_BCRYPT_COST;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn create_workflow(app: &TestApp, token: &str, name: &str) -> String {
    let reply = app
        .post(token, "/api/v1/workflows", json!({ "name": name }))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_str().expect("id").to_owned()
}

fn steps(names: &[&str]) -> Value {
    let steps: Vec<Value> = names.iter().map(|name| json!({ "name": name })).collect();
    json!({ "definition": { "steps": steps } })
}

/// The fields named by a problem's errors, sorted.
fn fields(reply: &Reply) -> Vec<String> {
    let mut fields: Vec<String> = reply.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_owned())
        .collect();
    fields.sort_unstable();
    fields
}

pub async fn workflow_lifecycle(app: &TestApp) {
    let token = app.admin_token().await;
    let created = app
        .post(
            &token,
            "/api/v1/workflows",
            json!({"name": "Release", "description": "tag, build, ship"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        created.header("location"),
        format!("/api/v1/workflows/{id}")
    );
    assert_eq!(created.body["latest_version"], json!(null));
    let path = format!("/api/v1/workflows/{id}");
    let read = app.get(&token, &path).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, created.body);

    let patched = app
        .patch(&token, &path, json!({"name": "Release train"}))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["name"], "Release train");
    assert_eq!(patched.body["description"], "tag, build, ship");

    // Versions: numbered from 1, each with its own address.
    let definition = json!({"steps": [
        {"name": "build", "payload": {"target": "x86_64"}, "required_capabilities": ["rust"]},
        {"name": "ship", "depends_on": ["build"], "max_attempts": 5},
    ]});
    let v1 = app
        .post(
            &token,
            &format!("{path}/versions"),
            json!({ "definition": definition }),
        )
        .await;
    assert_eq!(v1.status, StatusCode::CREATED, "{}", v1.body);
    assert_eq!(v1.header("location"), format!("{path}/versions/1"));
    assert_eq!(v1.body["version"], 1);
    assert_eq!(
        v1.body["definition"]["steps"][1]["depends_on"],
        json!(["build"])
    );
    assert_eq!(v1.body["definition"]["steps"][0]["max_attempts"], 3);
    let v2 = app
        .post(&token, &format!("{path}/versions"), steps(&["only"]))
        .await;
    assert_eq!(v2.status, StatusCode::CREATED, "{}", v2.body);
    assert_eq!(v2.body["version"], 2);
    assert_eq!(app.get(&token, &path).await.body["latest_version"], 2);
    let got = app.get(&token, &format!("{path}/versions/1")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, v1.body);
    let newest = app
        .get(&token, &format!("{path}/versions?sort=-version&limit=1"))
        .await;
    assert_eq!(newest.status, StatusCode::OK, "{}", newest.body);
    assert_eq!(ids(&newest.body["items"]), ids(&json!([v2.body])));
    let cursor = newest.body["next_cursor"].as_str().expect("a cursor");
    let older = app
        .get(
            &token,
            &format!("{path}/versions?sort=-version&limit=1&cursor={cursor}"),
        )
        .await;
    assert_eq!(ids(&older.body["items"]), ids(&json!([v1.body])));
    assert_eq!(older.body["next_cursor"], json!(null));

    // Executions: each step a task, the execution following them.
    let project = app.create_project(&token, "Releases").await;
    let started = app
        .post(
            &token,
            &format!("{path}/executions"),
            json!({"project_id": project["id"], "input": {"tag": "v1.0.0"}}),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let execution = started.body["id"].as_str().expect("id").to_owned();
    let execution_path = format!("{path}/executions/{execution}");
    assert_eq!(started.header("location"), execution_path);
    assert_eq!(started.body["status"], "running");
    assert!(started.body["started_at"].is_string());
    assert_eq!(started.body["version"], 2);
    assert_eq!(started.body["input"], json!({"tag": "v1.0.0"}));
    let pinned = app
        .post(
            &token,
            &format!("{path}/executions"),
            json!({"version": 1, "project_id": project["id"], "input": null}),
        )
        .await;
    assert_eq!(pinned.status, StatusCode::CREATED, "{}", pinned.body);
    assert_eq!(pinned.body["version"], 1);
    assert_eq!(pinned.body["version_id"], v1.body["id"]);
    let listed = app
        .get(&token, &format!("{path}/executions?status=running"))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(ids(&listed.body["items"]).len(), 2);
    let all = app
        .get(&token, &format!("{path}/executions?sort=-created_at"))
        .await;
    assert_eq!(
        ids(&all.body["items"]),
        vec![
            pinned.body["id"].as_str().expect("id").to_owned(),
            execution.clone()
        ]
    );

    // Version 2's one step runs as a task; its result is the execution's output.
    let step_tasks = app.get(&token, &format!("{execution_path}/tasks")).await;
    assert_eq!(step_tasks.status, StatusCode::OK, "{}", step_tasks.body);
    assert_eq!(step_tasks.body["items"][0]["step_name"], "only");
    assert_eq!(step_tasks.body["items"][0]["status"], "queued");
    assert_eq!(step_tasks.body["items"][0]["project_id"], project["id"]);
    assert_eq!(
        step_tasks.body["items"][0]["payload"]["input"],
        json!({"tag": "v1.0.0"})
    );
    let agent = app
        .post(
            &token,
            "/api/v1/agents",
            json!({"name": "releaser", "kind": "bot"}),
        )
        .await;
    let claimed = app
        .post(
            &token,
            "/api/v1/queue/claim",
            json!({"agent_id": agent.body["id"]}),
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let task = &claimed.body["items"][0];
    assert_eq!(task["id"], step_tasks.body["items"][0]["id"]);
    let completed = app
        .post(
            &token,
            &format!(
                "/api/v1/tasks/{}/complete",
                task["id"].as_str().expect("id")
            ),
            json!({"lease_token": task["lease_token"], "result": {"artifact": "release.tar.gz"}}),
        )
        .await;
    assert_eq!(completed.status, StatusCode::OK, "{}", completed.body);
    let done = app.get(&token, &execution_path).await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(done.body["status"], "succeeded");
    assert_eq!(
        done.body["output"],
        json!({"only": {"artifact": "release.tar.gz"}})
    );
    assert!(done.body["finished_at"].is_string());

    // It has run, so it stays; a workflow that never ran goes with its versions.
    let refused = app.delete(&token, &path).await;
    refused.assert_problem(StatusCode::CONFLICT);
    assert!(
        refused.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("2 execution")),
        "{}",
        refused.body
    );
    assert_eq!(app.get(&token, &path).await.status, StatusCode::OK);
    let draft = create_workflow(app, &token, "Draft").await;
    let draft_path = format!("/api/v1/workflows/{draft}");
    app.post(&token, &format!("{draft_path}/versions"), steps(&["a"]))
        .await;
    assert_eq!(
        app.delete(&token, &draft_path).await.status,
        StatusCode::NO_CONTENT
    );
    app.get(&token, &draft_path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.get(&token, &format!("{draft_path}/versions/1"))
        .await
        .assert_problem(StatusCode::NOT_FOUND);

    let list = app.get(&token, "/api/v1/workflows").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(ids(&list.body["items"]), vec![id]);
}

pub async fn bad_definitions_name_the_steps(app: &TestApp) {
    let token = app.admin_token().await;
    let id = create_workflow(app, &token, "Looping").await;
    let versions = format!("/api/v1/workflows/{id}/versions");

    let cycle = app
        .post(
            &token,
            &versions,
            json!({"definition": {"steps": [
                {"name": "a", "depends_on": ["b"]},
                {"name": "b", "depends_on": ["a"]},
            ]}}),
        )
        .await;
    assert_eq!(
        cycle.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("definition.steps")
    );
    assert!(
        cycle.body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("steps form a cycle: a → b → a")),
        "{}",
        cycle.body
    );
    let unknown = app
        .post(
            &token,
            &versions,
            json!({"definition": {"steps": [{"name": "a", "depends_on": ["ghost"]}]}}),
        )
        .await;
    assert_eq!(
        unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("definition.steps")
    );
    assert!(
        unknown.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("unknown step \"ghost\"")),
        "{}",
        unknown.body
    );
    let not_an_object = app
        .post(&token, &versions, json!({"definition": [1, 2]}))
        .await;
    assert_eq!(
        not_an_object.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("definition")
    );
    let missing = app.post(&token, &versions, json!({})).await;
    assert_eq!(
        missing.assert_problem(StatusCode::BAD_REQUEST),
        Some("definition")
    );

    // Nothing was written.
    let workflow = app.get(&token, &format!("/api/v1/workflows/{id}")).await;
    assert_eq!(workflow.body["latest_version"], json!(null));
    let listed = app.get(&token, &versions).await;
    assert!(ids(&listed.body["items"]).is_empty());
}

pub async fn executions_and_paths_are_checked(app: &TestApp) {
    let token = app.admin_token().await;
    let id = create_workflow(app, &token, "Deploy").await;
    let path = format!("/api/v1/workflows/{id}");
    let project = app.create_project(&token, "Deployments").await;
    let run = |more: Value| {
        let mut body = json!({"project_id": project["id"], "input": {}});
        if let (Some(body), Value::Object(more)) = (body.as_object_mut(), more) {
            body.extend(more);
        }
        body
    };

    let no_version = app
        .post(&token, &format!("{path}/executions"), run(json!({})))
        .await;
    no_version.assert_problem(StatusCode::CONFLICT);
    assert!(
        no_version.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no version yet")),
        "{}",
        no_version.body
    );
    app.post(&token, &format!("{path}/versions"), steps(&["a"]))
        .await;
    let missing_version = app
        .post(
            &token,
            &format!("{path}/executions"),
            run(json!({"version": 9})),
        )
        .await;
    assert_eq!(
        missing_version.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("version")
    );
    let no_project = app
        .post(&token, &format!("{path}/executions"), json!({"input": {}}))
        .await;
    assert_eq!(
        no_project.assert_problem(StatusCode::BAD_REQUEST),
        Some("project_id")
    );
    let bad = app
        .post(
            &token,
            &format!("{path}/executions"),
            run(json!({"input": "nul \u{0} inside", "priority": 10_000_000})),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad), vec!["input", "priority"]);
    let unknown_project = app
        .post(
            &token,
            &format!("{path}/executions"),
            run(json!({"project_id": uuid::Uuid::now_v7()})),
        )
        .await;
    assert_eq!(
        unknown_project.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("project_id")
    );
    app.post(
        &token,
        &format!("/api/v1/workflows/{}/executions", uuid::Uuid::now_v7()),
        run(json!({})),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND);
    // Nothing was written by the refusals.
    assert!(app.task_ids(&token, "").await.is_empty());
    let none = app.get(&token, &format!("{path}/executions")).await;
    assert!(ids(&none.body["items"]).is_empty());

    let started = app
        .post(
            &token,
            &format!("{path}/executions"),
            run(json!({"input": 1, "priority": 7})),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let execution = format!(
        "{path}/executions/{}",
        started.body["id"].as_str().expect("id")
    );
    let tasks = app.get(&token, &format!("{execution}/tasks")).await;
    assert_eq!(tasks.body["items"][0]["priority"], 7);
    // Its status follows its tasks: the one status to ask for is cancelled.
    for status in ["done", "running", "succeeded", "pending"] {
        let refused = app
            .patch(&token, &execution, json!({ "status": status }))
            .await;
        assert_eq!(
            refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
            Some("status"),
            "{status}"
        );
    }
    app.patch(
        &token,
        &execution,
        json!({"status": "cancelled", "output": 1}),
    )
    .await
    .assert_problem(StatusCode::BAD_REQUEST);
    let long = app
        .post(
            &token,
            &format!("{execution}/cancel"),
            json!({"reason": "x".repeat(1001)}),
        )
        .await;
    assert_eq!(
        long.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("reason")
    );
    assert_eq!(app.get(&token, &execution).await.body, started.body);
    let bad_sort = app
        .get(&token, &format!("{execution}/tasks?sort=-version"))
        .await;
    assert_eq!(
        bad_sort.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("sort")
    );

    // An execution is found under its own workflow only.
    let other = create_workflow(app, &token, "Other").await;
    let elsewhere = execution.replace(&id, &other);
    app.get(&token, &elsewhere)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.patch(&token, &elsewhere, json!({"status": "cancelled"}))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.post(&token, &format!("{elsewhere}/cancel"), json!({}))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.get(&token, &format!("{elsewhere}/tasks"))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    assert_eq!(app.get(&token, &execution).await.body["status"], "running");
    let none = app
        .get(&token, &format!("/api/v1/workflows/{other}/executions"))
        .await;
    assert!(ids(&none.body["items"]).is_empty());
    app.get(
        &token,
        &format!("/api/v1/workflows/{}/executions", uuid::Uuid::now_v7()),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND);

    // Path and query parameters.
    let not_a_number = app.get(&token, &format!("{path}/versions/latest")).await;
    assert_eq!(
        not_a_number.assert_problem(StatusCode::BAD_REQUEST),
        Some("version")
    );
    app.get(&token, &format!("{path}/versions/0"))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    let not_an_id = app.get(&token, "/api/v1/workflows/nope/versions/1").await;
    assert_eq!(
        not_an_id.assert_problem(StatusCode::BAD_REQUEST),
        Some("id")
    );
    assert_eq!(fields(&not_an_id), vec!["id"]);
    let bad_execution_id = app.get(&token, &format!("{path}/executions/nope")).await;
    assert_eq!(
        bad_execution_id.assert_problem(StatusCode::BAD_REQUEST),
        Some("execution_id")
    );
    let bad_filter = app
        .get(
            &token,
            &format!("{path}/executions?status=done&sort=-version"),
        )
        .await;
    bad_filter.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad_filter), vec!["sort", "status"]);
    app.get(&token, &format!("{path}/versions?sort=-created_at"))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    app.post(&token, "/api/v1/workflows", json!({"name": "Deploy"}))
        .await
        .assert_problem(StatusCode::CONFLICT);
    // Steps come as versions, never with the workflow.
    let with_steps = app
        .post(
            &token,
            "/api/v1/workflows",
            json!({"name": "X", "steps": []}),
        )
        .await;
    assert_eq!(
        with_steps.assert_problem(StatusCode::BAD_REQUEST),
        Some("steps")
    );
}

pub async fn workflows_need_their_permissions(app: &TestApp) {
    let admin = app.admin_token().await;
    let id = create_workflow(app, &admin, "Guarded").await;
    let org = app.get(&admin, "/api/v1/organization").await;
    let org_id: OrganizationId = org.body["id"]
        .as_str()
        .expect("org id")
        .parse()
        .expect("a uuid");
    let password = Password::parse("viewer-password").expect("password");
    app.store
        .create_user(
            &Ctx::system(org_id),
            NewUser {
                email: Email::parse("viewer@example.test").expect("email"),
                username: None,
                display_name: Name::parse("display_name", "Viewer").expect("name"),
                password_hash: PasswordHash::hash(&password, TEST_BCRYPT_COST).expect("hash"),
                roles: vec![SystemRole::Viewer.into()],
            },
        )
        .await
        .expect("create viewer");
    let viewer = app.token("viewer@example.test", "viewer-password").await;

    let read = app.get(&viewer, &format!("/api/v1/workflows/{id}")).await;
    assert_eq!(read.status, StatusCode::OK, "viewers read workflows");
    let writes = [
        app.post(&viewer, "/api/v1/workflows", json!({"name": "no"}))
            .await,
        app.post(
            &viewer,
            &format!("/api/v1/workflows/{id}/versions"),
            steps(&["a"]),
        )
        .await,
        app.delete(&viewer, &format!("/api/v1/workflows/{id}"))
            .await,
    ];
    for write in writes {
        write.assert_problem(StatusCode::FORBIDDEN);
        assert!(
            write.body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("workflows:write"))
        );
    }
    assert_eq!(
        app.get(&admin, &format!("/api/v1/workflows/{id}"))
            .await
            .body["latest_version"],
        json!(null),
        "nothing was written"
    );

    // Running one writes tasks too; reading its tasks needs tasks:read, which viewers have.
    let project = app.create_project(&admin, "Guarded runs").await;
    app.post(
        &admin,
        &format!("/api/v1/workflows/{id}/versions"),
        steps(&["a"]),
    )
    .await;
    let executions = format!("/api/v1/workflows/{id}/executions");
    let started = app
        .post(
            &admin,
            &executions,
            json!({"project_id": project["id"], "input": null}),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let execution = format!("{executions}/{}", started.body["id"].as_str().expect("id"));
    let read = app.get(&viewer, &format!("{execution}/tasks")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["items"][0]["step_name"], "a");
    app.post(
        &viewer,
        &executions,
        json!({"project_id": project["id"], "input": null}),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN);
    app.post(&viewer, &format!("{execution}/cancel"), json!({}))
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    app.patch(&viewer, &execution, json!({"status": "cancelled"}))
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    assert_eq!(app.get(&admin, &execution).await.body["status"], "running");
}

pub async fn executions_follow_their_tasks(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Pipelines").await;
    let id = create_workflow(app, &token, "Build and test").await;
    let path = format!("/api/v1/workflows/{id}");
    let definition = json!({"definition": {"steps": [
        {"name": "build"},
        {"name": "test", "depends_on": ["build"]},
    ]}});
    app.post(&token, &format!("{path}/versions"), definition)
        .await;
    let agent = app
        .post(
            &token,
            "/api/v1/agents",
            json!({"name": "ci", "kind": "bot"}),
        )
        .await;
    let start = async || {
        let started = app
            .post(
                &token,
                &format!("{path}/executions"),
                json!({"project_id": project["id"], "input": {"ref": "main"}}),
            )
            .await;
        assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
        let execution = started.header("location").to_owned();
        let steps = app.get(&token, &format!("{execution}/tasks")).await;
        assert_eq!(steps.status, StatusCode::OK, "{}", steps.body);
        (execution, steps.body["items"].clone())
    };

    // A step that fails for good fails the execution, and the steps after it are cancelled.
    let (failing, steps) = start().await;
    assert_eq!(steps[0]["step_name"], "build");
    assert_eq!(steps[0]["status"], "queued");
    assert_eq!(steps[1]["step_name"], "test");
    assert_eq!(steps[1]["status"], "blocked");
    let build = steps[0]["id"].as_str().expect("id").to_owned();
    let claimed = app
        .post(
            &token,
            &format!("/api/v1/tasks/{build}/claim"),
            json!({"agent_id": agent.body["id"]}),
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let failed = app
        .post(
            &token,
            &format!("/api/v1/tasks/{build}/fail"),
            json!({"lease_token": claimed.body["lease_token"], "error": {"code": 2},
                   "retry": false}),
        )
        .await;
    assert_eq!(failed.status, StatusCode::OK, "{}", failed.body);
    let execution = app.get(&token, &failing).await;
    assert_eq!(execution.body["status"], "failed");
    assert_eq!(execution.body["error"]["step"], "build");
    assert_eq!(execution.body["error"]["task_id"], json!(build));
    assert_eq!(execution.body["error"]["error"], json!({"code": 2}));
    let steps = app.get(&token, &format!("{failing}/tasks")).await;
    assert_eq!(steps.body["items"][1]["status"], "cancelled");
    let retry = app
        .post(&token, &format!("/api/v1/tasks/{build}/retry"), json!({}))
        .await;
    retry.assert_problem(StatusCode::CONFLICT);
    assert!(
        retry.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("start a new one")),
        "{}",
        retry.body
    );
    let too_late = app
        .post(&token, &format!("{failing}/cancel"), json!({}))
        .await;
    assert_eq!(
        too_late.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("status")
    );

    // A running execution keeps its tasks, and its project.
    let (running, steps) = start().await;
    let step_task = format!("/api/v1/tasks/{}", steps[0]["id"].as_str().expect("id"));
    app.delete(&token, &step_task)
        .await
        .assert_problem(StatusCode::CONFLICT);
    let project_path = format!("/api/v1/projects/{}", project["id"].as_str().expect("id"));
    app.delete(&token, &project_path)
        .await
        .assert_problem(StatusCode::CONFLICT);

    // Cancelled with its tasks, by POST …/cancel; again, it answers the same.
    let cancelled = app
        .post(
            &token,
            &format!("{running}/cancel"),
            json!({"reason": "superseded"}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(cancelled.body["error"]["reason"], "superseded");
    let steps = app.get(&token, &format!("{running}/tasks")).await;
    for step in steps.body["items"].as_array().expect("items") {
        assert_eq!(step["status"], "cancelled", "{step}");
    }
    let again = app
        .post(&token, &format!("{running}/cancel"), json!({}))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, cancelled.body);
    assert_eq!(
        app.patch(&token, &running, json!({"status": "cancelled"}))
            .await
            .body,
        cancelled.body
    );

    // Or by PATCH.
    let (patched, _) = start().await;
    let by_patch = app
        .patch(
            &token,
            &patched,
            json!({"status": "cancelled", "reason": "by hand"}),
        )
        .await;
    assert_eq!(by_patch.status, StatusCode::OK, "{}", by_patch.body);
    assert_eq!(by_patch.body["status"], "cancelled");
    assert_eq!(by_patch.body["error"]["reason"], "by hand");

    // Ended, its tasks and its project may go.
    assert_eq!(
        app.delete(&token, &step_task).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&token, &project_path).await.status,
        StatusCode::NO_CONTENT
    );
    let kept = app.get(&token, &running).await;
    assert_eq!(kept.body["status"], "cancelled");
    let steps = app.get(&token, &format!("{running}/tasks")).await;
    assert!(ids(&steps.body["items"]).is_empty());
}

pub async fn cancelling_a_task_reaches_its_subtasks_and_child_executions(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Nested").await;
    let id = create_workflow(app, &token, "Child").await;
    let path = format!("/api/v1/workflows/{id}");
    app.post(&token, &format!("{path}/versions"), steps(&["only"]))
        .await;
    let parent = app.create_task(&token, &project, "parent").await;
    let parent_id = parent["id"].as_str().expect("id");
    let subtask = app
        .post(
            &token,
            "/api/v1/tasks",
            json!({"project_id": project["id"], "title": "part", "parent_id": parent_id}),
        )
        .await;
    assert_eq!(subtask.status, StatusCode::CREATED, "{}", subtask.body);
    let agent = app
        .post(
            &token,
            "/api/v1/agents",
            json!({"name": "worker", "kind": "bot"}),
        )
        .await;
    let claimed = app
        .post(
            &token,
            &format!(
                "/api/v1/tasks/{}/claim",
                subtask.body["id"].as_str().expect("id")
            ),
            json!({"agent_id": agent.body["id"]}),
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);

    // A child execution names its parent task; a task the organization lacks is refused.
    let child = app
        .post(
            &token,
            &format!("{path}/executions"),
            json!({"project_id": project["id"], "input": {}, "parent_task_id": parent_id}),
        )
        .await;
    assert_eq!(child.status, StatusCode::CREATED, "{}", child.body);
    assert_eq!(child.body["parent_task_id"], json!(parent_id));
    let execution = child.header("location").to_owned();
    let unknown = app
        .post(
            &token,
            &format!("{path}/executions"),
            json!({"project_id": project["id"], "input": {},
                   "parent_task_id": "01890000-0000-7000-8000-000000000000"}),
        )
        .await;
    assert_eq!(
        unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("parent_task_id")
    );

    let cancelled = app
        .post(
            &token,
            &format!("/api/v1/tasks/{parent_id}/cancel"),
            json!({"reason": "dropped"}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(
        cancelled.body["cancelled_descendants"],
        json!({"tasks": 2, "workflow_executions": 1})
    );
    let ended = app.get(&token, &execution).await;
    assert_eq!(ended.body["status"], "cancelled");
    let steps = app.get(&token, &format!("{execution}/tasks")).await;
    assert_eq!(steps.body["items"][0]["status"], "cancelled");
    // The subtask's worker learns it at its next heartbeat.
    let told = app
        .post(
            &token,
            &format!(
                "/api/v1/tasks/{}/heartbeat",
                subtask.body["id"].as_str().expect("id")
            ),
            json!({"lease_token": claimed.body["lease_token"]}),
        )
        .await;
    told.assert_problem(StatusCode::CONFLICT);
    // Cancelling again is refused and changes nothing.
    let again = app
        .post(
            &token,
            &format!("/api/v1/tasks/{parent_id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(
        again.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("status")
    );
    // An ended task starts no child.
    let late = app
        .post(
            &token,
            &format!("{path}/executions"),
            json!({"project_id": project["id"], "input": {}, "parent_task_id": parent_id}),
        )
        .await;
    late.assert_problem(StatusCode::CONFLICT);
}
