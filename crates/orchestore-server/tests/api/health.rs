//! Health, readiness through an outage, request ids.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use orchestore_sea::{DbConfig, SeaStore};
use orchestore_testkit::{TcpProxy, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

pub async fn health_reports_and_recovers(app: &TestApp) {
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

pub async fn request_ids_are_echoed(app: &TestApp) {
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
        .json(&json!({ "organization": ORGANIZATION, "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))
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

    // Connections that die while idle (a database restart between two requests) fail no
    // request: pinged before use after a second idle, and within that second a read or a
    // `BEGIN` that meets a dead one runs again on the next connection.
    proxy.set_up(false);
    proxy.set_up(true);
    all_answer().await;
    proxy.set_up(false);
    proxy.set_up(true);
    let created = http
        .post(format!("{base}/api/v1/projects"))
        .bearer_auth(&token)
        .json(&json!({ "name": "After the restart" }))
        .send()
        .await
        .expect("the server answers");
    let created = Reply::from(created).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    tokio::time::sleep(Duration::from_millis(1100)).await;
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
