//! What every API test uses: a server on port 0 over a database the test owns, an HTTP
//! client, and the calls most tests make.

use std::sync::Arc;

use orchestore_repo::Store;
use orchestore_server::{Application, BootstrapSettings, Secret, Settings};
use orchestore_testkit::{TEST_BCRYPT_COST, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const ADMIN_EMAIL: &str = "admin@example.test";
pub const ADMIN_PASSWORD: &str = "correct horse battery";
/// The organization the server bootstraps, which the admin logs in to.
pub const ORGANIZATION: &str = "default";
pub const PROBLEM_JSON: &str = "application/problem+json";
/// The password of the users the tests create through the API.
pub const USER_PASSWORD: &str = "users own password";

/// A running server and the database behind it.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub store: Arc<dyn Store>,
    pub db: TestDb,
}

pub fn test_settings() -> Settings {
    let mut settings = Settings::default();
    settings.server.port = 0;
    settings.auth.bcrypt_cost = TEST_BCRYPT_COST;
    // The reputation feeder would change agents' standings while a test compares what it read
    // before and after; the tests of the feeder set their own interval.
    settings.collaboration.reputation_feed_interval = std::time::Duration::from_secs(3600);
    settings.bootstrap = BootstrapSettings {
        organization: ORGANIZATION.to_owned(),
        admin_email: Some(ADMIN_EMAIL.to_owned()),
        admin_password: Some(Secret::new(ADMIN_PASSWORD)),
    };
    settings
}

/// Starts a server over `store`; returns its base URL.
pub async fn serve(store: Arc<dyn Store>, settings: Settings) -> String {
    let app = Application::with_store(store, settings)
        .await
        .expect("the application starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    base
}

pub async fn spawn(db: TestDb) -> TestApp {
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
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub async fn from(response: reqwest::Response) -> Self {
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

    /// The body as text, cut to a length a failure message can show.
    pub fn body_excerpt(&self) -> String {
        let text = self.body.to_string();
        match text.char_indices().nth(300) {
            Some((end, _)) => format!("{}…", &text[..end]),
            None => text,
        }
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    /// Checks that this is a problem document with `status`; returns its first field error.
    pub fn assert_problem(&self, status: StatusCode) -> Option<&str> {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.header("content-type"), PROBLEM_JSON);
        assert_eq!(self.body["status"], status.as_u16());
        assert!(self.body["type"].is_string() && self.body["title"].is_string());
        assert!(self.body["errors"].is_array(), "body: {}", self.body);
        self.body["errors"][0]["field"].as_str()
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn send(
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

    pub async fn get(&self, token: &str, path: &str) -> Reply {
        self.send(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, token: &str, path: &str) -> Reply {
        self.send(Method::DELETE, path, Some(token), None).await
    }

    /// Logs in to the bootstrapped organization.
    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.login_to(ORGANIZATION, email, password).await
    }

    pub async fn login_to(&self, organization: &str, email: &str, password: &str) -> Reply {
        let body = json!({ "organization": organization, "email": email, "password": password });
        self.send(Method::POST, "/api/v1/auth/login", None, Some(body))
            .await
    }

    /// An access token for `email` in the bootstrapped organization.
    pub async fn token(&self, email: &str, password: &str) -> String {
        self.token_in(ORGANIZATION, email, password).await
    }

    /// An access token for `email` in `organization`.
    pub async fn token_in(&self, organization: &str, email: &str, password: &str) -> String {
        let reply = self.login_to(organization, email, password).await;
        assert_eq!(reply.status, StatusCode::OK, "login: {}", reply.body);
        reply.body["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    pub async fn admin_token(&self) -> String {
        self.token(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// The typed client of this server, signed in as the bootstrap administrator.
    pub async fn admin_client(&self) -> orchestore_client::Client {
        self.client(orchestore_client::Credential::Bearer(
            self.admin_token().await,
        ))
    }

    /// The typed client of this server with `credential`.
    pub fn client(&self, credential: orchestore_client::Credential) -> orchestore_client::Client {
        orchestore_client::Client::new(&self.base, credential).expect("the server's base URL")
    }

    pub async fn create_project(&self, token: &str, name: &str) -> Value {
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

    pub async fn create_task(&self, token: &str, project: &Value, title: &str) -> Value {
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

    /// A user of the caller's organization with `roles` (codes) and [`USER_PASSWORD`].
    pub async fn create_user(&self, token: &str, email: &str, roles: &[&str]) -> Value {
        let body = json!({
            "email": email,
            "display_name": "Someone",
            "password": USER_PASSWORD,
            "roles": roles,
        });
        let reply = self.post(token, "/api/v1/users", body).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "create user: {}",
            reply.body
        );
        reply.body
    }

    /// The task ids of the first page of a list.
    pub async fn task_ids(&self, token: &str, query: &str) -> Vec<String> {
        let reply = self.get(token, &format!("/api/v1/tasks?{query}")).await;
        assert_eq!(reply.status, StatusCode::OK, "list: {}", reply.body);
        ids(&reply.body["items"])
    }
}

pub fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("an array of items")
        .iter()
        .map(|item| item["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// The field of each entry of a problem's `errors`, sorted.
pub fn error_fields(problem: &Value) -> Vec<String> {
    let mut fields: Vec<String> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field").to_owned())
        .collect();
    fields.sort_unstable();
    fields
}

pub fn uuid_like(value: &str) -> bool {
    value.len() == 36 && value.chars().filter(|c| *c == '-').count() == 4
}
