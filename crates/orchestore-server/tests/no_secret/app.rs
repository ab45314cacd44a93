//! The server in this process, on a database whose connection string holds a password: log in,
//! refresh, present bad tokens and keys, create and use an API key, issue and accept an
//! invitation, sign up, make 4xx and 5xx requests; then look for every secret in the captured
//! log and in every response.

use orchestore_repo::AuthRepo as _;
use orchestore_sea::{DbConfig, SeaStore, open_pool};
use orchestore_server::{Application, BootstrapSettings, Secret, Settings};
use orchestore_testkit::{TEST_BCRYPT_COST, TestDb};
use reqwest::{Method, StatusCode, Url};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::{Secrets, capture};

const ORGANIZATION: &str = "default";
const ADMIN_EMAIL: &str = "admin@example.test";
const USER_EMAIL: &str = "user@example.test";
const INVITED_EMAIL: &str = "invited@example.test";
/// The password put in the connection string when `ORCHESTORE_TEST_PG_URL` has none: the
/// local server trusts TCP connections and ignores it, but the application holds it.
const DB_PASSWORD: &str = "some-db-password";
/// The same, for the key=value form, where a quoted value may hold spaces.
const DB_PASSWORD_WITH_SPACES: &str = "some db password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_shows_no_secret() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("orchestore.db").display()
    );
    shows_no_secret(url, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_url_shows_no_secret() {
    let Some(db) = TestDb::postgres_unmigrated().await else {
        return;
    };
    let (url, password) = with_password(db.url(), DB_PASSWORD);
    shows_no_secret(url.to_string(), Some(password)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_key_value_string_shows_no_secret() {
    let Some(db) = TestDb::postgres_unmigrated().await else {
        return;
    };
    let (url, password) = with_password(db.url(), DB_PASSWORD_WITH_SPACES);
    let mut pairs = vec![
        (
            "host".to_owned(),
            url.host_str().unwrap_or_default().to_owned(),
        ),
        ("port".to_owned(), url.port().unwrap_or(5432).to_string()),
        ("user".to_owned(), url.username().to_owned()),
        ("password".to_owned(), password.clone()),
        (
            "dbname".to_owned(),
            url.path().trim_start_matches('/').to_owned(),
        ),
    ];
    pairs.extend(
        url.query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned())),
    );
    let key_value: Vec<String> = pairs
        .iter()
        .map(|(key, value)| {
            format!(
                "{key}='{}'",
                value.replace('\\', "\\\\").replace('\'', "\\'")
            )
        })
        .collect();
    shows_no_secret(key_value.join(" "), Some(password)).await;
}

/// `url` with a password: its own, or `fallback`, which the trusting server ignores. Returns
/// the URL and the password as the driver reads it.
fn with_password(url: &str, fallback: &str) -> (Url, String) {
    let mut url = Url::parse(url).expect("ORCHESTORE_TEST_PG_URL is a URL");
    let password = match url.password() {
        Some(encoded) => form_urlencoded::parse(format!("p={encoded}").as_bytes())
            .map(|(_, decoded)| decoded.into_owned())
            .next()
            .unwrap_or_default(),
        None => {
            url.set_password(Some(fallback))
                .expect("the URL takes a password");
            fallback.to_owned()
        }
    };
    (url, password)
}

/// A response as it came.
struct Exchange {
    what: String,
    body: String,
}

/// An HTTP client that keeps every response.
struct Client {
    http: reqwest::Client,
    base: String,
    exchanges: Vec<Exchange>,
}

impl Client {
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.keep(format!("{method} {path}"), request).await
    }

    /// A POST whose body is not JSON.
    async fn post_text(&mut self, path: &str, bearer: &str, text: &str) -> (StatusCode, Value) {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(bearer)
            .header("content-type", "application/json")
            .body(text.to_owned());
        self.keep(format!("POST {path} (not JSON)"), request).await
    }

    async fn keep(
        &mut self,
        what: String,
        request: reqwest::RequestBuilder,
    ) -> (StatusCode, Value) {
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let body = response.text().await.expect("the body is read");
        let json = serde_json::from_str(&body).unwrap_or(Value::Null);
        self.exchanges.push(Exchange {
            what: format!("{what} → {status}"),
            body,
        });
        (status, json)
    }

    /// The index of the last response.
    fn last(&self) -> usize {
        self.exchanges.len() - 1
    }
}

fn text(value: &Value) -> String {
    value.as_str().expect("a string").to_owned()
}

async fn shows_no_secret(database: String, db_password: Option<String>) {
    let captured = capture::install();
    let admin_password = format!("admin pw {}", uuid::Uuid::new_v4().simple());
    let user_password = format!("user pw {}", uuid::Uuid::new_v4().simple());
    let invited_password = format!("invited pw {}", uuid::Uuid::new_v4().simple());
    let owner_password = format!("owner pw {}", uuid::Uuid::new_v4().simple());
    let mut settings = Settings::default();
    settings.server.port = 0;
    settings.auth.bcrypt_cost = TEST_BCRYPT_COST;
    settings.auth.open_signup = true;
    settings.bootstrap = BootstrapSettings {
        organization: ORGANIZATION.to_owned(),
        admin_email: Some(ADMIN_EMAIL.to_owned()),
        admin_password: Some(Secret::new(&admin_password)),
    };
    settings.database = DbConfig {
        max_connections: 4,
        min_connections: 0,
        ..DbConfig::new(&database)
    };
    let app = Application::build(settings)
        .await
        .expect("the application starts");
    let mut client = Client {
        http: reqwest::Client::new(),
        base: format!("http://127.0.0.1:{}", app.port()),
        exchanges: Vec::new(),
    };
    tokio::spawn(app.run_until_stopped());
    let login = |email: &str, password: &str| json!({ "organization": ORGANIZATION, "email": email, "password": password });

    // Log in, with the right password and a wrong one.
    let (status, tokens) = client
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(login(ADMIN_EMAIL, &admin_password)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (access, refresh) = (
        text(&tokens["access_token"]),
        text(&tokens["refresh_token"]),
    );
    let login_reply = client.last();
    let (status, _) = client
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(login(ADMIN_EMAIL, "wrong password")),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Refresh; the used refresh token again, and one made up.
    let (status, rotated) = client
        .send(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({ "refresh_token": refresh })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let (access2, refresh2) = (
        text(&rotated["access_token"]),
        text(&rotated["refresh_token"]),
    );
    let refresh_reply = client.last();
    for replayed in [refresh.clone(), format!("{refresh}x"), "made-up".to_owned()] {
        let (status, _) = client
            .send(
                Method::POST,
                "/api/v1/auth/refresh",
                None,
                Some(json!({ "refresh_token": replayed })),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    // The replay of the first token revoked its session, and with it `access2` and
    // `refresh2`: log in again.
    let (status, tokens) = client
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(login(ADMIN_EMAIL, &admin_password)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (access3, refresh3) = (
        text(&tokens["access_token"]),
        text(&tokens["refresh_token"]),
    );
    let relogin_reply = client.last();

    // Access tokens that are not: malformed, tampered with, none.
    let tampered = format!("{access3}x");
    for bearer in [Some("not-a-token"), Some(tampered.as_str()), None] {
        let (status, _) = client
            .send(Method::GET, "/api/v1/projects", bearer, None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }

    // A user with a password of their own, who logs in.
    let (status, user) = client
        .send(
            Method::POST,
            "/api/v1/users",
            Some(&access3),
            Some(json!({
                "email": USER_EMAIL,
                "display_name": "Someone",
                "password": user_password,
                "roles": ["developer"],
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let (status, user_tokens) = client
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(login(USER_EMAIL, &user_password)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user_tokens}");
    let (user_access, user_refresh) = (
        text(&user_tokens["access_token"]),
        text(&user_tokens["refresh_token"]),
    );
    let user_login_reply = client.last();

    // An invitation: issued (its token shown once), listed, accepted with a password of the
    // invited person's own (their tokens shown once), then offered again.
    let (status, invitation) = client
        .send(
            Method::POST,
            "/api/v1/invitations",
            Some(&access3),
            Some(json!({ "email": INVITED_EMAIL, "roles": ["viewer"] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invitation}");
    let invitation_token = text(&invitation["token"]);
    let invitation_reply = client.last();
    let (status, _) = client
        .send(Method::GET, "/api/v1/invitations", Some(&access3), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let accept = json!({
        "token": invitation_token,
        "display_name": "Invited",
        "password": invited_password,
    });
    let (status, invited_tokens) = client
        .send(
            Method::POST,
            "/api/v1/invitations/accept",
            None,
            Some(accept.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invited_tokens}");
    let (invited_access, invited_refresh) = (
        text(&invited_tokens["access_token"]),
        text(&invited_tokens["refresh_token"]),
    );
    let accept_reply = client.last();
    let (status, _) = client
        .send(
            Method::POST,
            "/api/v1/invitations/accept",
            None,
            Some(accept),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A sign-up: a new organization and its owner, logged in.
    let (status, owner_tokens) = client
        .send(
            Method::POST,
            "/api/v1/organizations/signup",
            None,
            Some(json!({
                "organization": "signed-up",
                "email": "owner@signed-up.test",
                "password": owner_password,
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{owner_tokens}");
    let (owner_access, owner_refresh) = (
        text(&owner_tokens["access_token"]),
        text(&owner_tokens["refresh_token"]),
    );
    let signup_reply = client.last();

    // An agent's API key: issued, listed, used; then tampered with.
    let (status, agent) = client
        .send(
            Method::POST,
            "/api/v1/agents",
            Some(&access3),
            Some(json!({ "name": "worker", "kind": "ai", "capabilities": [] })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{agent}");
    let keys = format!("/api/v1/agents/{}/api-keys", text(&agent["id"]));
    let (status, issued) = client
        .send(
            Method::POST,
            &keys,
            Some(&access3),
            Some(json!({ "name": "host-1" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let key = text(&issued["secret"]);
    assert!(key.starts_with("osk_"));
    let key_reply = client.last();
    let (status, _) = client.send(Method::GET, &keys, Some(&access3), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, claimed) = client
        .send(
            Method::POST,
            "/api/v1/queue/claim",
            Some(&key),
            Some(json!({ "limit": 1 })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{claimed}");
    let (status, _) = client
        .send(Method::GET, "/api/v1/me", Some(&key), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = client
        .send(
            Method::POST,
            "/api/v1/queue/claim",
            Some(&format!("{key}x")),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Requests the server refuses: invalid, not JSON, nowhere.
    let (status, _) = client
        .send(
            Method::POST,
            "/api/v1/projects",
            Some(&access3),
            Some(json!({ "name": "" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = client
        .post_text("/api/v1/projects", &access3, "{not json")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = client
        .send(Method::GET, "/api/v1/nowhere", Some(&access3), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = client
        .send(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&access3),
            Some(json!({ "refresh_token": refresh3 })),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // What the database keeps: the password hashes and the generated JWT key.
    let raw = open_pool(&DbConfig::new(&database))
        .await
        .expect("a connection of the test's own");
    let rows = raw
        .query_all_raw(Statement::from_string(
            raw.get_database_backend(),
            "SELECT password_hash FROM users",
        ))
        .await
        .expect("the hashes are read");
    let hashes: Vec<String> = rows
        .iter()
        .map(|row| row.try_get::<String>("", "password_hash").expect("a hash"))
        .collect();
    assert_eq!(hashes.len(), 4);
    assert!(
        hashes.iter().all(|hash| hash.starts_with("$2")),
        "{hashes:?}"
    );
    let store = SeaStore::from_connection(raw.clone()).expect("a store");
    let jwt_secret = store
        .instance_setting_or_insert("auth.jwt_secret", "not generated")
        .await
        .expect("the JWT key is read");
    assert_ne!(jwt_secret, "not generated");
    let debug_of_connections = format!("{raw:?}\n{store:?}");

    // A 5xx: the tables go from under the server. The body tells nothing of why.
    store
        .rollback(None)
        .await
        .expect("every migration is reverted");
    let (status, problem) = client
        .send(Method::GET, "/api/v1/projects", Some(&access3), None)
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{problem}");
    assert_eq!(
        problem,
        json!({
            "type": "urn:orchestore:problem:internal",
            "title": "Internal server error",
            "status": 500,
            "detail": "an internal error occurred; it has been logged",
            "errors": [],
        })
    );

    let mut secrets = Secrets::default();
    secrets.add("the admin's password", admin_password);
    secrets.add("the user's password", user_password);
    secrets.add("the invited user's password", invited_password);
    secrets.add("the signed-up owner's password", owner_password);
    secrets.add("an invitation token", &invitation_token);
    secrets.add("an access token", &invited_access);
    secrets.add("an access token", &owner_access);
    secrets.add("a refresh token", &invited_refresh);
    secrets.add("a refresh token", &owner_refresh);
    for hash in hashes {
        secrets.add("a bcrypt hash", hash);
    }
    secrets.add("an access token", &access);
    secrets.add("an access token", &access2);
    secrets.add("an access token", &access3);
    secrets.add("an access token", &user_access);
    secrets.add("a refresh token", &refresh);
    secrets.add("a refresh token", &refresh2);
    secrets.add("a refresh token", &refresh3);
    secrets.add("a refresh token", &user_refresh);
    secrets.add("the API key", &key);
    secrets.add("the JWT key", jwt_secret);
    if let Some(password) = db_password {
        secrets.add("the database password", password);
    }

    let log = captured.text();
    // The capture is real: every level down to TRACE, from the libraries as from the server.
    for expected in [
        " TRACE ",
        "sqlx::query",
        "sea_orm",
        "actix_server",
        "request served",
        "request failed",
        "connecting to the database",
    ] {
        assert!(log.contains(expected), "the log has no {expected:?}");
    }
    secrets.assert_absent("the log", &log);
    secrets.assert_absent(
        "Debug of the connection and the store",
        &debug_of_connections,
    );
    for (index, exchange) in client.exchanges.iter().enumerate() {
        let shown: &[&str] = match index {
            i if i == login_reply => &[&access, &refresh],
            i if i == refresh_reply => &[&access2, &refresh2],
            i if i == relogin_reply => &[&access3, &refresh3],
            i if i == user_login_reply => &[&user_access, &user_refresh],
            i if i == key_reply => &[&key],
            i if i == invitation_reply => &[&invitation_token],
            i if i == accept_reply => &[&invited_access, &invited_refresh],
            i if i == signup_reply => &[&owner_access, &owner_refresh],
            _ => &[],
        };
        for secret in shown {
            assert!(
                exchange.body.contains(secret),
                "{} shows its secret",
                exchange.what
            );
        }
        secrets.assert_absent_except(&exchange.what, &exchange.body, shown);
    }
}
