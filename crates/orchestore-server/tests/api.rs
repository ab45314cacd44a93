//! The HTTP API end to end: each test starts the server on port 0 over a database of its own
//! and talks to it with a real client. Every case runs on SQLite and, when
//! `ORCHESTORE_TEST_PG_URL` is set, on PostgreSQL.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use orchestore_domain::{Email, Name, NewUser, OrganizationId, Password, PasswordHash, SystemRole};
use orchestore_repo::{Ctx, Store};
use orchestore_sea::{DbConfig, SeaStore};
use orchestore_server::{Application, BootstrapSettings, Secret, Settings};
use orchestore_testkit::{Fixture, TEST_BCRYPT_COST, TcpProxy, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const ADMIN_EMAIL: &str = "admin@example.test";
const ADMIN_PASSWORD: &str = "correct horse battery";
const PROBLEM_JSON: &str = "application/problem+json";

/// A running server and the database behind it.
struct TestApp {
    base: String,
    http: reqwest::Client,
    store: Arc<dyn Store>,
    db: TestDb,
}

fn test_settings() -> Settings {
    let mut settings = Settings::default();
    settings.server.port = 0;
    settings.auth.bcrypt_cost = TEST_BCRYPT_COST;
    settings.bootstrap = BootstrapSettings {
        organization: "default".to_owned(),
        admin_email: Some(ADMIN_EMAIL.to_owned()),
        admin_password: Some(Secret::new(ADMIN_PASSWORD)),
    };
    settings
}

/// Starts a server over `store`; returns its base URL.
async fn serve(store: Arc<dyn Store>, settings: Settings) -> String {
    let app = Application::with_store(store, settings)
        .await
        .expect("the application starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    base
}

async fn spawn(db: TestDb) -> TestApp {
    let store: Arc<dyn Store> = Arc::new(db.store().clone());
    let base = serve(Arc::clone(&store), test_settings()).await;
    TestApp {
        base,
        http: reqwest::Client::new(),
        store,
        db,
    }
}

/// A response's status, headers and JSON body (`Null` when there is none).
struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Reply {
    async fn from(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("the body is read");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("the body is JSON")
        };
        Self {
            status,
            headers,
            body,
        }
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    /// Checks that this is a problem document with `status`; returns its first field error.
    fn assert_problem(&self, status: StatusCode) -> Option<&str> {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.header("content-type"), PROBLEM_JSON);
        assert_eq!(self.body["status"], status.as_u16());
        assert!(self.body["type"].is_string() && self.body["title"].is_string());
        assert!(self.body["errors"].is_array(), "body: {}", self.body);
        self.body["errors"][0]["field"].as_str()
    }
}

impl TestApp {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Reply::from(request.send().await.expect("the server answers")).await
    }

    async fn get(&self, token: &str, path: &str) -> Reply {
        self.send(Method::GET, path, Some(token), None).await
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(token), Some(body)).await
    }

    async fn patch(&self, token: &str, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    async fn delete(&self, token: &str, path: &str) -> Reply {
        self.send(Method::DELETE, path, Some(token), None).await
    }

    async fn login(&self, email: &str, password: &str) -> Reply {
        let body = json!({ "email": email, "password": password });
        self.send(Method::POST, "/api/v1/auth/login", None, Some(body))
            .await
    }

    /// An access token for `email`.
    async fn token(&self, email: &str, password: &str) -> String {
        let reply = self.login(email, password).await;
        assert_eq!(reply.status, StatusCode::OK, "login: {}", reply.body);
        reply.body["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    async fn admin_token(&self) -> String {
        self.token(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    async fn create_project(&self, token: &str, name: &str) -> Value {
        let reply = self
            .post(token, "/api/v1/projects", json!({ "name": name }))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "create project: {}",
            reply.body
        );
        reply.body
    }

    async fn create_task(&self, token: &str, project: &Value, title: &str) -> Value {
        let body = json!({ "project_id": project["id"], "title": title });
        let reply = self.post(token, "/api/v1/tasks", body).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "create task: {}",
            reply.body
        );
        reply.body
    }

    /// The task ids of the first page of a list.
    async fn task_ids(&self, token: &str, query: &str) -> Vec<String> {
        let reply = self.get(token, &format!("/api/v1/tasks?{query}")).await;
        assert_eq!(reply.status, StatusCode::OK, "list: {}", reply.body);
        ids(&reply.body["items"])
    }
}

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("an array of items")
        .iter()
        .map(|item| item["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// Runs each case once per backend: `sqlite::<case>` and `postgres::<case>`.
macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let app = super::spawn(orchestore_testkit::TestDb::sqlite().await).await;
                    super::$case(&app).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(db) = orchestore_testkit::TestDb::postgres().await else {
                        return;
                    };
                    let app = super::spawn(db).await;
                    super::$case(&app).await;
                }
            )*
        }
    };
}

on_every_backend!(
    login_issues_tokens_and_refuses_bad_credentials_alike,
    routes_need_a_valid_bearer_token,
    project_crud,
    duplicate_project_name_conflicts,
    task_pages_neither_skip_nor_repeat,
    tasks_filter_by_status_and_project,
    task_patch_follows_the_state_machine,
    malformed_requests_are_problems,
    invalid_fields_are_all_reported_and_nothing_is_written,
    list_parameters_are_checked,
    another_organization_is_not_found,
    refresh_rotates_and_logout_revokes,
    missing_permission_is_forbidden,
    health_reports_and_recovers,
    request_ids_are_echoed,
    replicas_share_the_generated_jwt_key,
    nul_characters_are_refused_on_every_backend,
    tasks_list_by_priority_and_empty_parameters_are_absent,
);

/// PostgreSQL cannot store U+0000; both backends refuse it alike, with a 422 naming the field.
async fn nul_characters_are_refused_on_every_backend(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Nul").await;
    for (field, value) in [
        ("description", json!("a\u{0}b")),
        ("payload", json!({ "k": ["\u{0}"] })),
        ("metadata", json!({ "k\u{0}": 1 })),
    ] {
        let mut body = json!({ "project_id": project["id"], "title": "nul" });
        body[field] = value;
        let reply = app.post(&token, "/api/v1/tasks", body).await;
        assert_eq!(
            reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
            Some(field)
        );
    }
    let reply = app
        .post(
            &token,
            "/api/v1/projects",
            json!({ "name": "Nul 2", "settings": { "k": "\u{0}" } }),
        )
        .await;
    assert_eq!(
        reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("settings")
    );
    assert!(
        app.task_ids(&token, "").await.is_empty(),
        "nothing was written"
    );
}

async fn tasks_list_by_priority_and_empty_parameters_are_absent(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Priorities").await;
    let mut expected = Vec::new();
    for (title, priority) in [("low", 1), ("high", 9), ("mid", 5)] {
        let reply = app
            .post(
                &token,
                "/api/v1/tasks",
                json!({ "project_id": project["id"], "title": title, "priority": priority }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
        expected.push((priority, reply.body["id"].as_str().expect("id").to_owned()));
    }
    expected.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();

    assert_eq!(
        app.task_ids(&token, "sort=-priority&limit=3").await,
        expected
    );
    assert_eq!(
        app.task_ids(&token, "sort=-priority&status=&cursor=&project_id=")
            .await,
        expected
    );
    let projects = app.get(&token, "/api/v1/projects?sort=-priority").await;
    assert_eq!(
        projects.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("sort")
    );
}

async fn login_issues_tokens_and_refuses_bad_credentials_alike(app: &TestApp) {
    let ok = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["token_type"], "Bearer");
    assert_eq!(ok.body["expires_in"], 900);
    assert_eq!(ok.header("cache-control"), "no-store");
    let access = ok.body["access_token"].as_str().expect("access token");
    assert_eq!(access.split('.').count(), 3, "a JWT");
    assert!(
        ok.body["refresh_token"]
            .as_str()
            .is_some_and(|t| t.len() >= 43)
    );

    // The email is matched case-insensitively.
    let upper = app.login(&ADMIN_EMAIL.to_uppercase(), ADMIN_PASSWORD).await;
    assert_eq!(upper.status, StatusCode::OK);

    let wrong_password = app.login(ADMIN_EMAIL, "not the password").await;
    let unknown_email = app.login("nobody@example.test", ADMIN_PASSWORD).await;
    let malformed_email = app.login("not an email", ADMIN_PASSWORD).await;
    wrong_password.assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password.body, unknown_email.body);
    assert_eq!(wrong_password.body, malformed_email.body);
    assert_eq!(unknown_email.status, StatusCode::UNAUTHORIZED);
    assert!(
        wrong_password
            .header("www-authenticate")
            .starts_with("Bearer")
    );
}

async fn routes_need_a_valid_bearer_token(app: &TestApp) {
    let none = app.send(Method::GET, "/api/v1/projects", None, None).await;
    assert_eq!(none.assert_problem(StatusCode::UNAUTHORIZED), None);
    assert!(none.header("www-authenticate").starts_with("Bearer"));

    let garbage = app.get("not-a-jwt", "/api/v1/projects").await;
    garbage.assert_problem(StatusCode::UNAUTHORIZED);
    assert!(garbage.header("www-authenticate").contains("invalid_token"));

    let token = app.admin_token().await;
    let forged = format!("{token}x");
    app.get(&forged, "/api/v1/projects")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);

    let me = app.get(&token, "/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["user"]["email"], ADMIN_EMAIL);
    assert!(me.body["user"].get("password_hash").is_none());
    let permissions: Vec<&str> = me.body["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(permissions.contains(&"tasks:write") && permissions.contains(&"projects:write"));

    let org = app.get(&token, "/api/v1/organization").await;
    assert_eq!(org.status, StatusCode::OK);
    assert_eq!(org.body["slug"], "default");
    assert_eq!(org.body["id"], me.body["user"]["organization_id"]);
}

async fn project_crud(app: &TestApp) {
    let token = app.admin_token().await;
    let created = app
        .post(
            &token,
            "/api/v1/projects",
            json!({
                "name": "  Apollo ",
                "description": "to the moon",
                "repository_url": "https://example.test/apollo.git",
                "tags": ["space", "nasa", "space"],
                "settings": { "lanes": 3 },
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(created.header("location"), format!("/api/v1/projects/{id}"));
    assert_eq!(created.body["name"], "Apollo");
    assert_eq!(created.body["tags"], json!(["nasa", "space"]));
    assert_eq!(created.body["settings"], json!({ "lanes": 3 }));

    let path = format!("/api/v1/projects/{id}");
    let fetched = app.get(&token, &path).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body, created.body);

    let listed = app.get(&token, "/api/v1/projects").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(ids(&listed.body["items"]), vec![id.clone()]);
    assert_eq!(listed.body["next_cursor"], Value::Null);

    let patched = app
        .patch(
            &token,
            &path,
            json!({ "name": "Artemis", "repository_url": null }),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["name"], "Artemis");
    assert_eq!(patched.body["repository_url"], Value::Null);
    assert_eq!(patched.body["description"], "to the moon");

    let unchanged = app.patch(&token, &path, json!({})).await;
    assert_eq!(unchanged.status, StatusCode::OK);
    assert_eq!(unchanged.body, patched.body);

    let bad_url = app
        .patch(&token, &path, json!({ "repository_url": "ftp://nope" }))
        .await;
    assert_eq!(
        bad_url.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("repository_url")
    );

    let deleted = app.delete(&token, &path).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&token, &path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.delete(&token, &path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

async fn duplicate_project_name_conflicts(app: &TestApp) {
    let token = app.admin_token().await;
    app.create_project(&token, "Gemini").await;
    let again = app
        .post(&token, "/api/v1/projects", json!({ "name": "Gemini" }))
        .await;
    again.assert_problem(StatusCode::CONFLICT);
    let listed = app.get(&token, "/api/v1/projects").await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
}

async fn task_pages_neither_skip_nor_repeat(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Paging").await;
    let mut expected = Vec::new();
    for n in 0..5 {
        let task = app
            .create_task(&token, &project, &format!("task {n}"))
            .await;
        expected.push(task["id"].as_str().expect("id").to_owned());
    }

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(cursor) => format!("limit=2&cursor={cursor}"),
            None => "limit=2".to_owned(),
        };
        let page = app.get(&token, &format!("/api/v1/tasks?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let items = ids(&page.body["items"]);
        assert!(items.len() <= 2);
        seen.extend(items);
        pages += 1;
        if pages == 1 {
            // Rows inserted mid-walk land after the cursor and are picked up, once.
            for n in 5..7 {
                let task = app
                    .create_task(&token, &project, &format!("task {n}"))
                    .await;
                expected.push(task["id"].as_str().expect("id").to_owned());
            }
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(seen, expected, "oldest first, every task once");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());

    let newest_first = app.task_ids(&token, "sort=-created_at&limit=200").await;
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(newest_first, reversed);
}

async fn tasks_filter_by_status_and_project(app: &TestApp) {
    let token = app.admin_token().await;
    let alpha = app.create_project(&token, "Alpha").await;
    let beta = app.create_project(&token, "Beta").await;
    let a1 = app.create_task(&token, &alpha, "a1").await;
    let a2 = app.create_task(&token, &alpha, "a2").await;
    let b1 = app.create_task(&token, &beta, "b1").await;
    assert_eq!(a1["status"], "queued");

    let cancel = app
        .patch(
            &token,
            &format!("/api/v1/tasks/{}", a2["id"].as_str().expect("id")),
            json!({ "status": "cancelled" }),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.body);

    let id = |task: &Value| task["id"].as_str().expect("id").to_owned();
    let alpha_id = alpha["id"].as_str().expect("id");
    let beta_id = beta["id"].as_str().expect("id");
    assert_eq!(
        app.task_ids(&token, &format!("project_id={alpha_id}"))
            .await,
        vec![id(&a1), id(&a2)]
    );
    assert_eq!(
        app.task_ids(&token, &format!("project_id={beta_id}")).await,
        vec![id(&b1)]
    );
    assert_eq!(
        app.task_ids(&token, "status=cancelled").await,
        vec![id(&a2)]
    );
    assert_eq!(
        app.task_ids(&token, "status=queued").await,
        vec![id(&a1), id(&b1)]
    );
    assert_eq!(
        app.task_ids(&token, &format!("status=queued&project_id={alpha_id}"))
            .await,
        vec![id(&a1)]
    );
}

async fn task_patch_follows_the_state_machine(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "States").await;
    let created = app
        .post(
            &token,
            "/api/v1/tasks",
            json!({
                "project_id": project["id"],
                "title": "ship it",
                "priority": 5,
                "payload": { "steps": [1, 2] },
                "required_capabilities": ["rust", "review"],
                "metadata": { "origin": "test" },
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body["required_capabilities"],
        json!(["review", "rust"])
    );
    let path = format!("/api/v1/tasks/{}", created.body["id"].as_str().expect("id"));
    assert_eq!(created.header("location"), path);
    assert_eq!(app.get(&token, &path).await.body, created.body);

    let patched = app
        .patch(
            &token,
            &path,
            json!({ "title": "ship it now", "priority": 9, "payload": null, "status": "cancelled" }),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["title"], "ship it now");
    assert_eq!(patched.body["priority"], 9);
    assert_eq!(patched.body["payload"], Value::Null);
    assert_eq!(patched.body["status"], "cancelled");
    assert_eq!(patched.body["metadata"], json!({ "origin": "test" }));

    let illegal = app
        .patch(&token, &path, json!({ "status": "queued" }))
        .await;
    assert_eq!(
        illegal.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("status")
    );
    let unknown = app.patch(&token, &path, json!({ "status": "done" })).await;
    assert_eq!(
        unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("status")
    );
    let null_title = app.patch(&token, &path, json!({ "title": null })).await;
    assert_eq!(
        null_title.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("title")
    );
    assert_eq!(
        app.get(&token, &path).await.body,
        patched.body,
        "nothing changed"
    );

    let unchanged = app.patch(&token, &path, json!({})).await;
    assert_eq!(unchanged.status, StatusCode::OK);
    assert_eq!(unchanged.body, patched.body);

    assert_eq!(
        app.delete(&token, &path).await.status,
        StatusCode::NO_CONTENT
    );
    app.get(&token, &path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

async fn malformed_requests_are_problems(app: &TestApp) {
    let token = app.admin_token().await;
    let raw = |body: &'static str, content_type: &'static str| {
        app.http
            .post(app.url("/api/v1/projects"))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
    };
    let malformed = Reply::from(
        raw("{\"name\": ", "application/json")
            .send()
            .await
            .expect("sent"),
    )
    .await;
    malformed.assert_problem(StatusCode::BAD_REQUEST);
    let wrong_type = Reply::from(
        raw("{\"name\": \"x\"}", "text/plain")
            .send()
            .await
            .expect("sent"),
    )
    .await;
    wrong_type.assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let too_large = app
        .http
        .post(app.url("/api/v1/projects"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024)))
        .send()
        .await
        .expect("sent");
    Reply::from(too_large)
        .await
        .assert_problem(StatusCode::PAYLOAD_TOO_LARGE);

    let project = app.create_project(&token, "Shapes").await;
    for (path, body, field) in [
        (
            "/api/v1/projects",
            json!({ "name": "x", "colour": "red" }),
            "colour",
        ),
        ("/api/v1/projects", json!({ "description": "x" }), "name"),
        (
            "/api/v1/tasks",
            json!({ "project_id": project["id"], "title": "t", "priority": "high" }),
            "priority",
        ),
        (
            "/api/v1/tasks",
            json!({ "project_id": "nope", "title": "t" }),
            "project_id",
        ),
    ] {
        let reply = app.post(&token, path, body).await;
        assert_eq!(
            reply.assert_problem(StatusCode::BAD_REQUEST),
            Some(field),
            "{path}"
        );
    }

    let bad_path = app.get(&token, "/api/v1/tasks/not-a-uuid").await;
    assert_eq!(bad_path.assert_problem(StatusCode::BAD_REQUEST), Some("id"));
    let no_route = app.get(&token, "/api/v1/nothing-here").await;
    no_route.assert_problem(StatusCode::NOT_FOUND);
    let wrong_method = app
        .send(Method::PUT, "/api/v1/projects", Some(&token), None)
        .await;
    wrong_method.assert_problem(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.header("allow"), "GET, POST");
}

async fn invalid_fields_are_all_reported_and_nothing_is_written(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Validation").await;
    for title in [String::new(), "   ".to_owned(), "x".repeat(501)] {
        let reply = app
            .post(
                &token,
                "/api/v1/tasks",
                json!({ "project_id": project["id"], "title": title }),
            )
            .await;
        assert_eq!(
            reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
            Some("title")
        );
    }
    let many = app
        .post(
            &token,
            "/api/v1/tasks",
            json!({
                "project_id": project["id"],
                "title": "",
                "priority": 10_000_000_000_i64,
                "required_capabilities": ["Not A Capability"],
                "metadata": [1, 2],
            }),
        )
        .await;
    many.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = many.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        vec!["title", "priority", "required_capabilities", "metadata"]
    );
    assert!(
        app.task_ids(&token, "").await.is_empty(),
        "no task was written"
    );

    let bad_project = app
        .post(
            &token,
            "/api/v1/projects",
            json!({ "name": "", "tags": [""] }),
        )
        .await;
    bad_project.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_project.body["errors"].as_array().map(Vec::len), Some(2));
    let listed = app.get(&token, "/api/v1/projects").await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
}

async fn list_parameters_are_checked(app: &TestApp) {
    let token = app.admin_token().await;
    for (path, status, field) in [
        (
            "/api/v1/tasks?limit=201",
            StatusCode::UNPROCESSABLE_ENTITY,
            "limit",
        ),
        (
            "/api/v1/projects?limit=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            "limit",
        ),
        ("/api/v1/tasks?limit=abc", StatusCode::BAD_REQUEST, "limit"),
        (
            "/api/v1/tasks?cursor=garbage",
            StatusCode::UNPROCESSABLE_ENTITY,
            "cursor",
        ),
        (
            "/api/v1/tasks?sort=title",
            StatusCode::UNPROCESSABLE_ENTITY,
            "sort",
        ),
        (
            "/api/v1/tasks?status=done",
            StatusCode::UNPROCESSABLE_ENTITY,
            "status",
        ),
        (
            "/api/v1/tasks?colour=red",
            StatusCode::BAD_REQUEST,
            "colour",
        ),
    ] {
        let reply = app.get(&token, path).await;
        assert_eq!(reply.assert_problem(status), Some(field), "{path}");
    }
    let ok = app.get(&token, "/api/v1/tasks?limit=200").await;
    assert_eq!(ok.status, StatusCode::OK);
}

async fn another_organization_is_not_found(app: &TestApp) {
    let admin = app.admin_token().await;
    let ours = app.create_project(&admin, "Ours").await;
    let task = app.create_task(&admin, &ours, "ours").await;

    Fixture::create(app.store.as_ref(), "other", "password123").await;
    let other = app.token("owner@other.test", "password123").await;
    let project_path = format!("/api/v1/projects/{}", ours["id"].as_str().expect("id"));
    let task_path = format!("/api/v1/tasks/{}", task["id"].as_str().expect("id"));
    app.get(&other, &project_path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.get(&other, &task_path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.patch(&other, &project_path, json!({ "name": "Theirs" }))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.delete(&other, &task_path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    let foreign_task = app
        .post(
            &other,
            "/api/v1/tasks",
            json!({ "project_id": ours["id"], "title": "sneaky" }),
        )
        .await;
    foreign_task.assert_problem(StatusCode::NOT_FOUND);
    let listed = app.get(&other, "/api/v1/projects").await;
    assert_eq!(listed.body["items"], json!([]));
    assert!(app.task_ids(&other, "").await.is_empty());

    // The same name is free in another organization, and ours is untouched.
    app.create_project(&other, "Ours").await;
    assert_eq!(app.get(&admin, &project_path).await.body, ours);
    assert_eq!(app.task_ids(&admin, "").await.len(), 1);
}

async fn refresh_rotates_and_logout_revokes(app: &TestApp) {
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let first = login.body["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    let refresh = |token: &str| {
        app.send(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({ "refresh_token": token })),
        )
    };

    let rotated = refresh(&first).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    assert_eq!(rotated.body["token_type"], "Bearer");
    let second = rotated.body["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    assert_ne!(second, first);
    let access = rotated.body["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    assert_eq!(app.get(&access, "/api/v1/me").await.status, StatusCode::OK);

    let replayed = refresh(&first).await;
    replayed.assert_problem(StatusCode::UNAUTHORIZED);
    refresh("made-up")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);

    let logout_body = json!({ "refresh_token": second });
    let unauthenticated = app
        .send(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            Some(logout_body.clone()),
        )
        .await;
    unauthenticated.assert_problem(StatusCode::UNAUTHORIZED);
    let logout = app
        .post(&access, "/api/v1/auth/logout", logout_body.clone())
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    refresh(&second)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    let again = app.post(&access, "/api/v1/auth/logout", logout_body).await;
    assert_eq!(
        again.status,
        StatusCode::NO_CONTENT,
        "logging out twice is harmless"
    );
}

async fn missing_permission_is_forbidden(app: &TestApp) {
    let admin = app.admin_token().await;
    let project = app.create_project(&admin, "Watched").await;
    app.create_task(&admin, &project, "visible").await;
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
                display_name: Name::parse("display_name", "Viewer").expect("name"),
                password_hash: PasswordHash::hash(&password, TEST_BCRYPT_COST).expect("hash"),
                roles: vec![SystemRole::Viewer],
            },
        )
        .await
        .expect("create viewer");
    let viewer = app.token("viewer@example.test", "viewer-password").await;

    assert_eq!(
        app.task_ids(&viewer, "").await.len(),
        1,
        "viewers read tasks"
    );
    let write = app
        .post(
            &viewer,
            "/api/v1/tasks",
            json!({ "project_id": project["id"], "title": "no" }),
        )
        .await;
    write.assert_problem(StatusCode::FORBIDDEN);
    assert!(
        write.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("tasks:write"))
    );
    app.post(&viewer, "/api/v1/projects", json!({ "name": "no" }))
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    assert_eq!(
        app.task_ids(&admin, "").await.len(),
        1,
        "nothing was written"
    );
}

async fn health_reports_and_recovers(app: &TestApp) {
    let live = app
        .http
        .get(app.url("/health/live"))
        .send()
        .await
        .expect("sent");
    let live = Reply::from(live).await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.body, json!({ "status": "ok" }));

    let ready = Reply::from(
        app.http
            .get(app.url("/health/ready"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(ready.body["status"], "ready");
    assert!(ready.body["backend"].is_string());
    assert!(ready.body["pool"]["connections"].is_u64());

    // A migration missing from the database makes the server unready, until it is applied.
    app.db
        .store()
        .rollback(Some(1))
        .await
        .expect("roll back one migration");
    let pending = Reply::from(
        app.http
            .get(app.url("/health/ready"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(pending.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(pending.body["status"], "migrations_pending");
    assert_eq!(pending.body["pending"].as_array().map(Vec::len), Some(1));
    app.db.store().migrate().await.expect("migrate again");
    let recovered = Reply::from(
        app.http
            .get(app.url("/health/ready"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(recovered.status, StatusCode::OK, "{}", recovered.body);
}

async fn request_ids_are_echoed(app: &TestApp) {
    let given = app
        .http
        .get(app.url("/health/live"))
        .header("x-request-id", "trace-123")
        .send()
        .await
        .expect("sent");
    assert_eq!(Reply::from(given).await.header("x-request-id"), "trace-123");

    let generated = Reply::from(
        app.http
            .get(app.url("/health/live"))
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert!(uuid_like(generated.header("x-request-id")));
    let too_long = app
        .http
        .get(app.url("/health/live"))
        .header("x-request-id", "x".repeat(129))
        .send()
        .await
        .expect("sent");
    assert!(uuid_like(
        Reply::from(too_long).await.header("x-request-id")
    ));

    let problem = app.send(Method::GET, "/api/v1/projects", None, None).await;
    assert!(
        uuid_like(problem.header("x-request-id")),
        "errors carry one too"
    );
}

async fn replicas_share_the_generated_jwt_key(app: &TestApp) {
    let token = app.admin_token().await;
    // A second server on the same database, told a different admin: it must not bootstrap
    // again, and it must accept the first one's tokens.
    let mut settings = test_settings();
    settings.bootstrap.admin_email = Some("second@example.test".to_owned());
    let second = serve(Arc::clone(&app.store), settings).await;
    let me = app
        .http
        .get(format!("{second}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    let me = Reply::from(me).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["user"]["email"], ADMIN_EMAIL);
    let login = json!({ "email": "second@example.test", "password": ADMIN_PASSWORD });
    let second_admin = app
        .http
        .post(format!("{second}/api/v1/auth/login"))
        .json(&login)
        .send()
        .await
        .expect("sent");
    Reply::from(second_admin)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}

/// Readiness while PostgreSQL is unreachable (a proxy in front of it is taken down), and after
/// it is back, with no restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_readiness_follows_an_outage() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let proxy = TcpProxy::start(upstream(db.url()).await)
        .await
        .expect("the proxy starts");
    let store = SeaStore::connect(&DbConfig {
        max_connections: 2,
        min_connections: 0,
        connect_timeout: Duration::from_secs(1),
        acquire_timeout: Duration::from_secs(1),
        ..DbConfig::new(proxy.url_through(db.url()))
    })
    .await
    .expect("connect through the proxy");
    let base = serve(Arc::new(store), test_settings()).await;
    let http = reqwest::Client::new();
    let ready = || async {
        let response = http.get(format!("{base}/health/ready")).send().await;
        Reply::from(response.expect("the server answers")).await
    };
    assert_eq!(ready().await.status, StatusCode::OK);

    proxy.set_up(false);
    let down = ready().await;
    assert_eq!(
        down.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        down.body
    );
    assert_eq!(down.body["status"], "unavailable");
    assert!(down.body["reason"].is_string());

    proxy.set_up(true);
    let mut recovered = false;
    for _ in 0..20 {
        if ready().await.status == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "readiness came back with the database");

    // Every pooled connection works again: no request meets one that died in the outage.
    let login = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))
        .send()
        .await
        .expect("login answers");
    let login = Reply::from(login).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let token = login.body["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let all_answer = || async {
        for _ in 0..10 {
            let response = http
                .get(format!("{base}/api/v1/organization"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("the server answers");
            assert_eq!(response.status(), StatusCode::OK);
        }
    };
    all_answer().await;

    // Connections that die while idle (a database restart between two requests) are replaced
    // before use, so no request fails.
    proxy.set_up(false);
    proxy.set_up(true);
    all_answer().await;
}

/// The address of the server in a `postgres://user@host:port/db` URL.
async fn upstream(url: &str) -> SocketAddr {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    tokio::net::lookup_host(host)
        .await
        .expect("the database host resolves")
        .next()
        .expect("an address")
}

fn uuid_like(value: &str) -> bool {
    value.len() == 36 && value.chars().filter(|c| *c == '-').count() == 4
}
