//! Every way the server refuses a request, each answered as a problem document — the
//! framework's own refusals included — and the bounds on how long a request may take.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use orchestore_repo::Store;
use orchestore_server::Settings;
use orchestore_testkit::TestDb;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait as _, TransactionTrait as _};
use serde_json::{Value, json};

use crate::helpers::*;

/// A problem document with every member a client reads: `type`, `title`, `status`, `detail`
/// and `errors`. Returns the field its first error names.
fn assert_whole_problem(reply: &Reply, status: StatusCode) -> Option<String> {
    let field = reply.assert_problem(status).map(str::to_owned);
    let kind = reply.body["type"].as_str().unwrap_or_default();
    assert!(
        kind.starts_with("urn:orchestore:problem:"),
        "{}",
        reply.body
    );
    let detail = reply.body["detail"].as_str().unwrap_or_default();
    assert!(!detail.is_empty(), "{}", reply.body);
    field
}

/// `body` sent as it is, with `content_type`.
async fn send_raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> Reply {
    let mut request = app
        .http
        .request(method, app.url(path))
        .header("content-type", content_type)
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    Reply::from(request.send().await.expect("the server answers")).await
}

pub async fn an_unknown_route_is_404(app: &TestApp) {
    let token = app.admin_token().await;
    let reply = app.get(&token, "/api/v1/nothing-here").await;
    assert_whole_problem(&reply, StatusCode::NOT_FOUND);
    let outside = app
        .send(Method::POST, "/not-the-api", None, Some(json!({})))
        .await;
    assert_whole_problem(&outside, StatusCode::NOT_FOUND);
}

pub async fn a_wrong_method_is_405_with_allow(app: &TestApp) {
    let token = app.admin_token().await;
    let reply = app
        .send(Method::PUT, "/api/v1/projects", Some(&token), None)
        .await;
    assert_whole_problem(&reply, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.header("allow"), "GET, HEAD, POST");
    let post_only = app
        .send(Method::GET, "/api/v1/auth/login", None, None)
        .await;
    assert_whole_problem(&post_only, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post_only.header("allow"), "POST");
}

pub async fn a_body_over_the_limit_is_413(app: &TestApp) {
    let token = app.admin_token().await;
    let body = format!("{{\"name\": \"{}\"}}", "x".repeat(1024 * 1024));
    let reply = send_raw(
        app,
        Method::POST,
        "/api/v1/projects",
        Some(&token),
        "application/json",
        body,
    )
    .await;
    assert_whole_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE);
}

pub async fn a_body_that_is_not_json_is_415(app: &TestApp) {
    let token = app.admin_token().await;
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let reply = send_raw(
            app,
            Method::POST,
            "/api/v1/projects",
            Some(&token),
            content_type,
            "{\"name\": \"x\"}",
        )
        .await;
        assert_whole_problem(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}

pub async fn unparsable_json_is_400(app: &TestApp) {
    let token = app.admin_token().await;
    for body in ["{\"name\": ", "", "{name: 'x'}"] {
        let reply = send_raw(
            app,
            Method::POST,
            "/api/v1/projects",
            Some(&token),
            "application/json",
            body,
        )
        .await;
        assert_whole_problem(&reply, StatusCode::BAD_REQUEST);
    }
    assert_eq!(
        app.get(&token, "/api/v1/projects").await.body["items"],
        json!([])
    );
}

pub async fn a_wrong_type_is_400_naming_the_field(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Types").await;
    for (path, body, field) in [
        ("/api/v1/projects", json!({ "name": 42 }), "name"),
        (
            "/api/v1/projects",
            json!({ "name": "x", "tags": "one" }),
            "tags",
        ),
        (
            "/api/v1/tasks",
            json!({ "project_id": project["id"], "title": ["t"] }),
            "title",
        ),
    ] {
        let reply = app.post(&token, path, body).await;
        assert_eq!(
            assert_whole_problem(&reply, StatusCode::BAD_REQUEST).as_deref(),
            Some(field)
        );
    }
}

/// serde fills a struct from an array by position: `["x"]` would be a task's new title and
/// `[organization, email, password]` a login. Every JSON body of the API takes an object.
pub async fn a_json_array_for_an_object_is_400(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Arrays").await;
    let task = app.create_task(&token, &project, "Keep this title").await;
    let task_path = format!("/api/v1/tasks/{}", task["id"].as_str().expect("an id"));
    let renamed = app.patch(&token, &task_path, json!(["x"])).await;
    assert_whole_problem(&renamed, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get(&token, &task_path).await.body["title"],
        "Keep this title"
    );

    let login = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!([ORGANIZATION, ADMIN_EMAIL, ADMIN_PASSWORD])),
        )
        .await;
    assert_whole_problem(&login, StatusCode::BAD_REQUEST);
    assert!(login.body.get("access_token").is_none());

    for body in [
        json!(["Arrays 2"]),
        json!("Arrays 2"),
        json!(42),
        json!(true),
        Value::Null,
    ] {
        let reply = app.post(&token, "/api/v1/projects", body.clone()).await;
        assert_whole_problem(&reply, StatusCode::BAD_REQUEST);
        assert!(
            reply.body["detail"]
                .as_str()
                .is_some_and(|detail| detail.contains("expected a JSON object")),
            "{body}: {}",
            reply.body
        );
    }
    // Inside a body too: the element at fault is named.
    let nested = app
        .post(
            &token,
            "/api/v1/tasks/batch",
            json!({ "tasks": [[project["id"], "by position"]] }),
        )
        .await;
    assert_eq!(
        assert_whole_problem(&nested, StatusCode::BAD_REQUEST).as_deref(),
        Some("tasks[0]")
    );
    let projects = app.get(&token, "/api/v1/projects").await;
    assert_eq!(projects.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(app.task_ids(&token, "").await.len(), 1);
}

pub async fn an_unparsable_path_is_400(app: &TestApp) {
    let token = app.admin_token().await;
    let reply = app.get(&token, "/api/v1/tasks/not-a-uuid").await;
    assert_eq!(
        assert_whole_problem(&reply, StatusCode::BAD_REQUEST).as_deref(),
        Some("id")
    );
}

pub async fn an_unparsable_query_is_400(app: &TestApp) {
    let token = app.admin_token().await;
    for (path, field) in [
        ("/api/v1/tasks?limit=abc", "limit"),
        ("/api/v1/tasks?limit=-1", "limit"),
        ("/api/v1/tasks?colour=red", "colour"),
    ] {
        let reply = app.get(&token, path).await;
        assert_eq!(
            assert_whole_problem(&reply, StatusCode::BAD_REQUEST).as_deref(),
            Some(field),
            "{path}"
        );
    }
}

pub async fn head_answers_as_get_without_a_body(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Heads").await;
    let path = format!(
        "/api/v1/projects/{}",
        project["id"].as_str().expect("an id")
    );
    let get = app
        .http
        .get(app.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET answers");
    let get_length = get.headers()["content-length"].clone();
    let head = app
        .http
        .head(app.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .expect("HEAD answers");
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["content-type"], "application/json");
    assert_eq!(head.headers()["content-length"], get_length);
    assert!(head.bytes().await.expect("read").is_empty());

    for path in ["/health/live", "/api/v1/tasks"] {
        let head = app
            .http
            .head(app.url(path))
            .bearer_auth(&token)
            .send()
            .await
            .expect("HEAD answers");
        assert_eq!(head.status(), StatusCode::OK, "{path}");
    }
    // Authorization is the GET's: no token, no answer.
    let anonymous = app
        .http
        .head(app.url(&path))
        .send()
        .await
        .expect("HEAD answers");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // A resource without GET has no HEAD either.
    let post_only = app
        .http
        .head(app.url("/api/v1/auth/login"))
        .send()
        .await
        .expect("HEAD answers");
    assert_eq!(post_only.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post_only.headers()["allow"], "POST");
}

/// Sends `request` as bytes on a new connection; returns what the server wrote before it
/// closed the connection or stopped for `wait`.
async fn exchange(base: &str, request: Vec<u8>, wait: Duration) -> String {
    let address = base.trim_start_matches("http://").to_owned();
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).expect("connect");
        stream.set_read_timeout(Some(wait)).expect("read timeout");
        // The server may answer and close before it has read it all.
        let _ = stream.write_all(&request);
        read_answer(&mut stream)
    })
    .await
    .expect("the exchange ends")
}

/// Reads one response: its head and the `Content-Length` bytes of body it announces, or what
/// comes until the connection closes or stops for its read timeout.
fn read_answer(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut buffer = [0_u8; 4096];
    while !is_whole_response(&answer) {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => answer.extend_from_slice(&buffer[..read]),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

fn is_whole_response(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, length)| length.trim().parse::<usize>().ok())
        .is_some_and(|length| body.len() >= length)
}

/// A request head the HTTP parser refuses is answered by actix itself, before any of the
/// server's code runs: with the status, and no body.
pub async fn a_malformed_header_is_400(app: &TestApp) {
    let answer = exchange(
        &app.base,
        b"GET /health/live HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n".to_vec(),
        Duration::from_secs(5),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

pub async fn too_many_headers_are_431(app: &TestApp) {
    let mut request = b"GET /health/live HTTP/1.1\r\nHost: x\r\n".to_vec();
    for n in 0..100 {
        request.extend_from_slice(format!("X-Filler-{n}: y\r\n").as_bytes());
    }
    request.extend_from_slice(b"\r\n");
    let answer = exchange(&app.base, request, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
}

/// A server over a fresh database with `settings` changed by `adjust`.
async fn spawn_with(db: TestDb, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let store: Arc<dyn Store> = Arc::new(db.store().clone());
    let mut settings = test_settings();
    adjust(&mut settings);
    let base = serve(Arc::clone(&store), settings).await;
    TestApp {
        base,
        http: reqwest::Client::new(),
        store,
        db,
    }
}

/// A body trickled in a byte at a time holds its connection no longer than
/// `server.body_read_timeout`. (No database is involved: SQLite is enough.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_is_408() {
    let app = spawn_with(TestDb::sqlite().await, |settings| {
        settings.server.body_read_timeout = Duration::from_secs(1);
    })
    .await;
    let address = app.base.trim_start_matches("http://").to_owned();
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        stream
            .write_all(
                b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n\
                  Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{",
            )
            .expect("the head is sent");
        let started = Instant::now();
        let mut trickle = stream.try_clone().expect("a second handle");
        let trickler = std::thread::spawn(move || {
            for _ in 0..20 {
                std::thread::sleep(Duration::from_millis(250));
                if trickle.write_all(b" ").is_err() {
                    break;
                }
            }
        });
        let answer = read_answer(&mut stream);
        let answered_after = started.elapsed();
        drop(stream);
        let _ = trickler.join();
        (answer, answered_after)
    })
    .await
    .expect("the exchange ends");
    let (answer, answered_after) = answer;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answered_after < Duration::from_secs(4),
        "answered after {answered_after:?}"
    );
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{head}"
    );
    let problem: Value = serde_json::from_str(body).expect("a JSON body");
    assert_eq!(problem["status"], 408);
    assert_eq!(problem["type"], "urn:orchestore:problem:request-timeout");
    assert!(problem["detail"].is_string() && problem["title"].is_string());
    assert_eq!(problem["errors"], json!([]));
}

/// A request whose database stalls answers 503 at `server.request_timeout`, and what it was
/// writing is rolled back. The stall is a lock on the table it writes, held by another
/// connection (PostgreSQL only: SQLite's writer gives up at its own busy timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_stalled_request_is_503_and_writes_nothing() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let app = spawn_with(db, |settings| {
        settings.server.request_timeout = Duration::from_secs(1);
    })
    .await;
    let token = app.admin_token().await;
    let locker = app.db.connection().begin().await.expect("begin");
    locker
        .execute_unprepared("LOCK TABLE projects IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("the table is locked");

    let started = Instant::now();
    let stalled = app
        .post(&token, "/api/v1/projects", json!({ "name": "Stalled" }))
        .await;
    let elapsed = started.elapsed();
    assert_whole_problem(&stalled, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        stalled.body["type"],
        "urn:orchestore:problem:deadline-exceeded"
    );
    assert!(stalled.header("retry-after").parse::<u64>().is_ok());
    assert!(!stalled.header("x-request-id").is_empty());
    assert!(
        elapsed < Duration::from_secs(3),
        "answered after {elapsed:?}"
    );

    locker.rollback().await.expect("the lock is released");
    // The insert that waited for the lock now runs, in a transaction that was dropped.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let listed = app.get(&token, "/api/v1/projects").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["items"], json!([]), "nothing was written");
    let created = app
        .post(&token, "/api/v1/projects", json!({ "name": "Stalled" }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
}
