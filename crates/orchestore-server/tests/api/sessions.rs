//! Sessions as a client lives them: refresh and replay, logout, the sessions list, logging out
//! everywhere, and access tokens that stop at once when access is taken away.

use std::sync::Arc;
use std::time::Duration;

use orchestore_repo::Store;
use orchestore_sea::{DbConfig, SeaStore};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// A login's two tokens.
struct Tokens {
    access: String,
    refresh: String,
}

impl Tokens {
    fn of(reply: &Reply) -> Self {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let field = |name: &str| {
            reply.body[name]
                .as_str()
                .unwrap_or_else(|| panic!("{name} in {}", reply.body))
                .to_owned()
        };
        Self {
            access: field("access_token"),
            refresh: field("refresh_token"),
        }
    }
}

async fn refresh(app: &TestApp, token: &str) -> Reply {
    app.send(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        Some(json!({ "refresh_token": token })),
    )
    .await
}

fn assert_revoked(reply: &Reply) {
    reply.assert_problem(StatusCode::UNAUTHORIZED);
    assert!(
        reply.header("www-authenticate").contains("invalid_token"),
        "{:?}",
        reply.headers
    );
}

pub async fn a_replayed_refresh_token_ends_the_session(app: &TestApp) {
    let login = Tokens::of(&app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await);
    let renewed = Tokens::of(&refresh(app, &login.refresh).await);
    assert_ne!(renewed.refresh, login.refresh);
    assert_eq!(
        app.get(&renewed.access, "/api/v1/me").await.status,
        StatusCode::OK
    );
    let sessions = app.get(&renewed.access, "/api/v1/sessions").await;
    assert_eq!(
        sessions.body["items"].as_array().map(Vec::len),
        Some(1),
        "a refresh renews the session: {}",
        sessions.body
    );

    // Someone replays the first token: refused, and the session ends for everyone holding
    // its tokens — the newest refresh token and the access tokens included.
    refresh(app, &login.refresh)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    refresh(app, &renewed.refresh)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    assert_revoked(&app.get(&renewed.access, "/api/v1/me").await);
    assert_revoked(&app.get(&login.access, "/api/v1/me").await);
    refresh(app, "made-up")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    // A new login is a new session.
    let again = app.admin_token().await;
    assert_eq!(app.get(&again, "/api/v1/me").await.status, StatusCode::OK);
}

pub async fn logout_stops_both_tokens_at_once(app: &TestApp) {
    let login = Tokens::of(&app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await);
    let other = Tokens::of(&app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await);
    app.send(Method::POST, "/api/v1/auth/logout", None, None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    // The old body, naming the refresh token, is still accepted (and ignored).
    let logout = app
        .post(
            &login.access,
            "/api/v1/auth/logout",
            json!({ "refresh_token": login.refresh }),
        )
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert_revoked(&app.get(&login.access, "/api/v1/me").await);
    refresh(app, &login.refresh)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    // The user's other session is untouched.
    assert_eq!(
        app.get(&other.access, "/api/v1/me").await.status,
        StatusCode::OK
    );
    Tokens::of(&refresh(app, &other.refresh).await);
}

pub async fn sessions_are_listed_and_revoked(app: &TestApp) {
    let send_login = |agent: &'static str| {
        app.http
            .post(app.url("/api/v1/auth/login"))
            .header("user-agent", agent)
            .json(&json!({
                "organization": ORGANIZATION,
                "email": ADMIN_EMAIL,
                "password": ADMIN_PASSWORD,
            }))
            .send()
    };
    let laptop = Tokens::of(&Reply::from(send_login("laptop/1.0").await.expect("sent")).await);
    let phone = Tokens::of(&Reply::from(send_login("phone/2.0").await.expect("sent")).await);
    let tablet = Tokens::of(&Reply::from(send_login("tablet/3.0").await.expect("sent")).await);

    let listed = app.get(&laptop.access, "/api/v1/sessions").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let items = listed.body["items"].as_array().expect("items").clone();
    let agents: Vec<&str> = items
        .iter()
        .map(|s| s["user_agent"].as_str().expect("user agent"))
        .collect();
    assert_eq!(agents, ["tablet/3.0", "phone/2.0", "laptop/1.0"]);
    let current: Vec<bool> = items
        .iter()
        .map(|s| s["current"].as_bool().expect("current"))
        .collect();
    assert_eq!(current, [false, false, true]);
    assert_eq!(items[2]["client_address"], "127.0.0.1");
    for item in &items {
        for secret in ["refresh_token", "refresh_token_hash", "token_hash"] {
            assert!(item.get(secret).is_none(), "{item}");
        }
    }
    let phone_id = items[1]["id"].as_str().expect("id").to_owned();
    assert_eq!(listed.body["next_cursor"], serde_json::Value::Null);

    // By pages of two, oldest first: the same three, then no cursor.
    let first = app
        .get(&laptop.access, "/api/v1/sessions?limit=2&sort=created_at")
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let cursor = first.body["next_cursor"].as_str().expect("a cursor");
    let rest = app
        .get(
            &laptop.access,
            &format!("/api/v1/sessions?limit=2&sort=created_at&cursor={cursor}"),
        )
        .await;
    assert_eq!(rest.body["next_cursor"], serde_json::Value::Null);
    let ids = |page: &Reply| -> Vec<serde_json::Value> {
        page.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|s| s["id"].clone())
            .collect()
    };
    let oldest_first: Vec<_> = ids(&first).into_iter().chain(ids(&rest)).collect();
    let newest_first: Vec<_> = items.iter().rev().map(|s| s["id"].clone()).collect();
    assert_eq!(oldest_first, newest_first);
    app.get(&laptop.access, "/api/v1/sessions?limit=0")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);

    // Revoking one session stops its access token at once.
    let revoke = app
        .delete(&laptop.access, &format!("/api/v1/sessions/{phone_id}"))
        .await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT, "{}", revoke.body);
    assert_revoked(&app.get(&phone.access, "/api/v1/me").await);
    app.delete(&laptop.access, &format!("/api/v1/sessions/{phone_id}"))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.delete(&laptop.access, "/api/v1/sessions/not-a-uuid")
        .await
        .assert_problem(StatusCode::BAD_REQUEST);

    // Another user cannot see or revoke the admin's sessions.
    let admin = laptop.access.clone();
    app.create_user(&admin, "dev@example.test", &["developer"])
        .await;
    let dev = app.token("dev@example.test", USER_PASSWORD).await;
    let theirs = app.get(&dev, "/api/v1/sessions").await;
    assert_eq!(theirs.body["items"].as_array().map(Vec::len), Some(1));
    let tablet_id = items[0]["id"].as_str().expect("id");
    app.delete(&dev, &format!("/api/v1/sessions/{tablet_id}"))
        .await
        .assert_problem(StatusCode::NOT_FOUND);

    // Everywhere else, then everywhere.
    let elsewhere = app
        .send(
            Method::DELETE,
            "/api/v1/sessions?except_current=true",
            Some(&laptop.access),
            None,
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::OK, "{}", elsewhere.body);
    assert_eq!(elsewhere.body["revoked"], 1);
    assert_revoked(&app.get(&tablet.access, "/api/v1/me").await);
    assert_eq!(
        app.get(&laptop.access, "/api/v1/me").await.status,
        StatusCode::OK
    );
    let everywhere = app.delete(&laptop.access, "/api/v1/sessions").await;
    assert_eq!(everywhere.body["revoked"], 1);
    assert_revoked(&app.get(&laptop.access, "/api/v1/me").await);
    assert_eq!(app.get(&dev, "/api/v1/me").await.status, StatusCode::OK);
}

async fn user_id(app: &TestApp, token: &str) -> String {
    let me = app.get(token, "/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    me.body["user"]["id"].as_str().expect("id").to_owned()
}

pub async fn deactivation_and_cut_permissions_stop_tokens_at_once(app: &TestApp) {
    let admin = app.admin_token().await;
    app.create_user(&admin, "dev@example.test", &["developer"])
        .await;
    let dev = Tokens::of(&app.login("dev@example.test", USER_PASSWORD).await);
    let dev_id = user_id(app, &dev.access).await;
    let project = app.create_project(&dev.access, "Allowed").await;

    // A role taken away: the token carrying its permissions stops; a refresh gets a token
    // with what is left.
    let roles = app.get(&admin, "/api/v1/roles?limit=100").await;
    let developer = roles.body["items"]
        .as_array()
        .expect("roles")
        .iter()
        .find(|r| r["code"] == "developer")
        .expect("developer role")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let viewer = roles.body["items"]
        .as_array()
        .expect("roles")
        .iter()
        .find(|r| r["code"] == "viewer")
        .expect("viewer role")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let grant = app
        .post(
            &admin,
            &format!("/api/v1/users/{dev_id}/roles"),
            json!({ "role_id": viewer }),
        )
        .await;
    assert!(grant.status.is_success(), "{}", grant.body);
    let removed = app
        .delete(&admin, &format!("/api/v1/users/{dev_id}/roles/{developer}"))
        .await;
    assert!(removed.status.is_success(), "{}", removed.body);
    assert_revoked(&app.get(&dev.access, "/api/v1/me").await);
    let renewed = Tokens::of(&refresh(app, &dev.refresh).await);
    let path = format!("/api/v1/projects/{}", project["id"].as_str().expect("id"));
    assert_eq!(app.get(&renewed.access, &path).await.status, StatusCode::OK);
    app.delete(&renewed.access, &path)
        .await
        .assert_problem(StatusCode::FORBIDDEN);

    // Deactivation: the access token and the refresh token stop at once.
    let deactivate = app
        .patch(
            &admin,
            &format!("/api/v1/users/{dev_id}"),
            json!({ "active": false }),
        )
        .await;
    assert_eq!(deactivate.status, StatusCode::OK, "{}", deactivate.body);
    assert_revoked(&app.get(&renewed.access, "/api/v1/me").await);
    refresh(app, &renewed.refresh)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    app.login("dev@example.test", USER_PASSWORD)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}

/// A revocation made through another replica reaches this one within
/// `auth.session_check_interval`. The replica has its own store (its own cache and epoch), so
/// it needs a database a second connection can reach: PostgreSQL, or a SQLite file.
pub async fn another_replica_learns_of_a_revocation_within_the_interval(app: &TestApp) {
    if app.db.url().contains(":memory:") {
        return;
    }
    let interval = Duration::from_millis(300);
    let replica_store = SeaStore::connect(&DbConfig::new(app.db.url()))
        .await
        .expect("a second connection");
    let replica_store: Arc<dyn Store> = Arc::new(replica_store);
    let mut settings = test_settings();
    settings.auth.session_check_interval = interval;
    let replica = serve(replica_store, settings).await;
    let me_on_replica = async |token: &str| -> Reply {
        let sent = app
            .http
            .get(format!("{replica}/api/v1/me"))
            .bearer_auth(token)
            .send()
            .await
            .expect("sent");
        Reply::from(sent).await
    };

    let login = Tokens::of(&app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await);
    assert_eq!(me_on_replica(&login.access).await.status, StatusCode::OK);
    let logout = app
        .post(&login.access, "/api/v1/auth/logout", Value::Null)
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    tokio::time::sleep(interval + Duration::from_millis(100)).await;
    assert_revoked(&me_on_replica(&login.access).await);
}

pub async fn passwords_change_with_the_current_one_and_the_policy(app: &TestApp) {
    let admin = app.admin_token().await;
    app.create_user(&admin, "dev@example.test", &["developer"])
        .await;
    let here = Tokens::of(&app.login("dev@example.test", USER_PASSWORD).await);
    let elsewhere = Tokens::of(&app.login("dev@example.test", USER_PASSWORD).await);
    let change = async |current: &str, new: &str| {
        app.post(
            &here.access,
            "/api/v1/me/password",
            json!({ "current_password": current, "new_password": new }),
        )
        .await
    };

    for (current, new, field) in [
        (
            "wrong password",
            "a brand new passphrase",
            "current_password",
        ),
        (USER_PASSWORD, "short", "new_password"),
        (USER_PASSWORD, "password123", "new_password"),
        (USER_PASSWORD, "dev@example.test", "new_password"),
    ] {
        let refused = change(current, new).await;
        assert_eq!(
            refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
            Some(field),
            "{new}: {}",
            refused.body
        );
    }
    // A password in the wrong shape is a 400 that does not quote it back.
    let shaped_wrong = app
        .post(
            &here.access,
            "/api/v1/me/password",
            json!({ "current_password": 31415926535_u64, "new_password": "a brand new passphrase" }),
        )
        .await;
    shaped_wrong.assert_problem(StatusCode::BAD_REQUEST);
    assert!(
        !shaped_wrong.body.to_string().contains("31415926535"),
        "{}",
        shaped_wrong.body
    );
    let too_long = "x".repeat(73);
    assert_eq!(
        change(USER_PASSWORD, &too_long)
            .await
            .assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("new_password")
    );
    // Nothing changed so far.
    assert_eq!(
        app.get(&elsewhere.access, "/api/v1/me").await.status,
        StatusCode::OK
    );

    let changed = change(USER_PASSWORD, "a brand new passphrase").await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);
    assert_eq!(
        app.get(&here.access, "/api/v1/me").await.status,
        StatusCode::OK
    );
    assert_revoked(&app.get(&elsewhere.access, "/api/v1/me").await);
    app.login("dev@example.test", USER_PASSWORD)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    Tokens::of(
        &app.login("dev@example.test", "a brand new passphrase")
            .await,
    );

    // An agent's key acts for no person: it has no password to change.
    let agents_only = app
        .post(
            "osk_not-a-real-key",
            "/api/v1/me/password",
            json!({ "current_password": "x", "new_password": "y" }),
        )
        .await;
    agents_only.assert_problem(StatusCode::UNAUTHORIZED);
}

/// bcrypt reads 72 bytes: a password is refused past them when set, and anything after the
/// 72nd byte of the right one does not log in.
pub async fn bytes_past_the_72nd_never_log_in(app: &TestApp) {
    let admin = app.admin_token().await;
    let exact = "p".repeat(71) + "!";
    let body = |password: &str| {
        json!({
            "email": "long@example.test",
            "display_name": "Long",
            "password": password,
        })
    };
    let too_long = app
        .post(&admin, "/api/v1/users", body(&format!("{exact}x")))
        .await;
    assert_eq!(
        too_long.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("password")
    );
    let created = app.post(&admin, "/api/v1/users", body(&exact)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        app.login("long@example.test", &exact).await.status,
        StatusCode::OK
    );
    let wrong = app
        .login("long@example.test", &format!("{exact}anything"))
        .await;
    wrong.assert_problem(StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.body,
        app.login("long@example.test", "wrong password").await.body
    );
}

pub async fn new_users_get_the_password_policy(app: &TestApp) {
    let admin = app.admin_token().await;
    for password in ["qwertyuiop", "Password123", "ada@example.test", "ADA"] {
        let refused = app
            .post(
                &admin,
                "/api/v1/users",
                json!({
                    "email": "ada@example.test",
                    "display_name": "Ada",
                    "password": password,
                }),
            )
            .await;
        assert_eq!(
            refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
            Some("password"),
            "{password}: {}",
            refused.body
        );
    }
}
