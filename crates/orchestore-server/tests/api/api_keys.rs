use chrono::{Duration, Utc};
use orchestore_domain::{KeyExpiry, KeyOwner, KeyScopes, Name, NewApiKey, OrganizationId, UserId};
use orchestore_repo::{Actor, AuditEntry, AuditFilter, AuditSort, Ctx, Limit, PageRequest};
use orchestore_testkit::Fixture;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, Reply, TestApp, USER_PASSWORD, error_fields};

const MY_KEYS: &str = "/api/v1/me/api-keys";

fn text(value: &Value) -> &str {
    value.as_str().expect("a string")
}

/// Creates a key of the caller through `POST /me/api-keys`; the reply.
async fn create_key(app: &TestApp, token: &str, body: Value) -> Reply {
    app.post(token, MY_KEYS, body).await
}

/// Creates a key of the caller; its secret and id.
async fn my_key(app: &TestApp, token: &str, body: Value) -> (String, String) {
    let reply = create_key(app, token, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    (
        text(&reply.body["secret"]).to_owned(),
        text(&reply.body["id"]).to_owned(),
    )
}

/// The caller's id and organization, from `GET /me`.
async fn whoami(app: &TestApp, token: &str) -> (UserId, OrganizationId) {
    let me = app.get(token, "/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    (
        serde_json::from_value(me.body["user"]["id"].clone()).expect("id"),
        serde_json::from_value(me.body["user"]["organization_id"].clone()).expect("org"),
    )
}

/// The audit rows of the organization, oldest first.
async fn audit(app: &TestApp, org: OrganizationId) -> Vec<AuditEntry> {
    app.store
        .list_audit(
            &Ctx::system(org),
            AuditFilter::default(),
            PageRequest::first(Limit::parse(200).expect("limit")).sorted(AuditSort::CreatedAt),
        )
        .await
        .expect("audit")
        .items
}

/// The id of the role `code`.
async fn role_id(app: &TestApp, token: &str, code: &str) -> String {
    let roles = app.get(token, "/api/v1/roles?limit=100").await;
    text(
        &roles.body["items"]
            .as_array()
            .expect("roles")
            .iter()
            .find(|r| r["code"] == code)
            .expect("the role")["id"],
    )
    .to_owned()
}

/// A person makes a key, sees it listed without its secret, uses it as themself, and revokes
/// it: the next request with it is a 401.
pub async fn personal_keys_are_created_listed_and_revoked(app: &TestApp) {
    let admin = app.admin_token().await;
    let ada = app
        .create_user(&admin, "ada@example.test", &["developer"])
        .await;
    let ada_token = app.token("ada@example.test", USER_PASSWORD).await;

    let created = create_key(app, &ada_token, json!({"name": "laptop"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let (secret, id) = (text(&created.body["secret"]), text(&created.body["id"]));
    assert!(secret.starts_with("osk_"));
    assert_eq!(created.header("location"), format!("{MY_KEYS}/{id}"));
    assert_eq!(created.body["user_id"], ada["id"]);
    assert_eq!(created.body["agent_id"], Value::Null);
    assert_eq!(created.body["scopes"], Value::Null, "all of the owner's");
    assert_eq!(created.body["expires_at"], Value::Null);

    // It acts as Ada, with what she holds.
    let me = app.get(secret, "/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["user"]["id"], ada["id"]);
    let project = app.create_project(secret, "Made with a key").await;
    let (_, org) = whoami(app, &ada_token).await;
    let rows = audit(app, org).await;
    let row = rows
        .iter()
        .find(|r| r.entity_id == text(&project["id"]))
        .expect("the project's audit row");
    assert_eq!(row.actor, format!("user:{}", text(&ada["id"])));
    assert_eq!(
        row.credential.map(|c| c.to_string()),
        Some(format!("api_key:{id}")),
        "the key, by its id"
    );

    let listed = app.get(secret, MY_KEYS).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let item = &listed.body["items"][0];
    assert_eq!(item["id"], json!(id));
    assert_eq!(item["name"], "laptop");
    assert_eq!(item["current"], true, "the key that asks");
    assert!(item["last_used_at"].is_string());
    assert!(item["created_at"].is_string());
    assert_eq!(item["revoked_at"], Value::Null);
    assert!(item.get("secret").is_none(), "shown once");
    assert!(!listed.body.to_string().contains(&secret[4..]));
    let by_token = app.get(&ada_token, MY_KEYS).await;
    assert_eq!(by_token.body["items"][0]["current"], false);

    // Another user's key is none of mine.
    let admins = app.get(&admin, MY_KEYS).await;
    assert_eq!(admins.body["items"], json!([]));
    app.delete(&admin, &format!("{MY_KEYS}/{id}"))
        .await
        .assert_problem(StatusCode::NOT_FOUND);

    let revoked = app.delete(&ada_token, &format!("{MY_KEYS}/{id}")).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.body);
    app.get(secret, "/api/v1/me")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    let after = app.get(&ada_token, MY_KEYS).await;
    assert!(after.body["items"][0]["revoked_at"].is_string());
    let rows = audit(app, org).await;
    let actions: Vec<&str> = rows
        .iter()
        .filter(|r| r.entity_id == id)
        .map(|r| r.action.as_str())
        .collect();
    assert_eq!(actions, ["api_key.create", "api_key.revoke"]);
    assert!(
        rows.iter()
            .all(|r| !r.changes.to_string().contains(&secret[4..])),
        "no audit row holds the key"
    );
}

/// A key grants its scopes that its owner holds now: a missing scope is a 403, a scope the
/// owner lacks or an unknown code is a 422, and a permission the owner loses is lost by the
/// key on its next request.
pub async fn scopes_bound_what_a_key_may_do(app: &TestApp) {
    let admin = app.admin_token().await;
    let dev = app
        .create_user(&admin, "dev@example.test", &["developer"])
        .await;
    let dev_token = app.token("dev@example.test", USER_PASSWORD).await;

    let lacking = create_key(
        app,
        &dev_token,
        json!({"name": "x", "scopes": ["projects:read", "users:write"]}),
    )
    .await;
    assert_eq!(
        lacking.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("scopes")
    );
    assert!(lacking.body.to_string().contains("users:write"));
    for scopes in [json!(["tasks:delete"]), json!([])] {
        let refused = create_key(app, &dev_token, json!({"name": "x", "scopes": scopes})).await;
        assert_eq!(
            refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
            Some("scopes")
        );
    }
    let every = create_key(
        app,
        &dev_token,
        json!({"name": "", "scopes": ["nope"], "expires_at": "2001-01-01T00:00:00Z"}),
    )
    .await;
    every.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&every.body), ["expires_at", "name", "scopes"]);
    let listed = app.get(&dev_token, MY_KEYS).await;
    assert_eq!(listed.body["items"], json!([]), "nothing was written");

    let (key, _) = my_key(
        app,
        &dev_token,
        json!({"name": "deployer", "scopes": ["projects:write", "projects:read"]}),
    )
    .await;
    let listed = app.get(&dev_token, MY_KEYS).await;
    assert_eq!(
        listed.body["items"][0]["scopes"],
        json!(["projects:read", "projects:write"])
    );
    let me = app.get(&key, "/api/v1/me").await;
    assert_eq!(
        me.body["permissions"],
        json!(["projects:read", "projects:write"]),
        "what the key grants"
    );
    assert_eq!(
        app.get(&key, "/api/v1/projects").await.status,
        StatusCode::OK
    );
    app.create_project(&key, "Deployed").await;
    // Dev may read tasks; the key may not.
    let tasks = app.get(&key, "/api/v1/tasks").await;
    tasks.assert_problem(StatusCode::FORBIDDEN);
    assert!(tasks.body["detail"].to_string().contains("tasks:read"));
    assert_eq!(
        app.get(&dev_token, "/api/v1/tasks").await.status,
        StatusCode::OK
    );

    // Dev becomes a viewer: the key loses `projects:write` at once.
    let dev_id = text(&dev["id"]);
    let viewer = role_id(app, &admin, "viewer").await;
    let developer = role_id(app, &admin, "developer").await;
    let granted = app
        .post(
            &admin,
            &format!("/api/v1/users/{dev_id}/roles"),
            json!({ "role_id": viewer }),
        )
        .await;
    assert!(granted.status.is_success(), "{}", granted.body);
    let removed = app
        .delete(&admin, &format!("/api/v1/users/{dev_id}/roles/{developer}"))
        .await;
    assert!(removed.status.is_success(), "{}", removed.body);
    app.post(&key, "/api/v1/projects", json!({"name": "Again"}))
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    let me = app.get(&key, "/api/v1/me").await;
    assert_eq!(me.body["permissions"], json!(["projects:read"]));
    assert_eq!(
        app.get(&key, "/api/v1/projects").await.status,
        StatusCode::OK
    );
}

/// A revoked key, an expired key, a key whose owner was deactivated, and anything that only
/// looks like a key are all 401; an expiry must be ahead and within a year.
pub async fn expired_revoked_and_malformed_keys_are_unauthenticated(app: &TestApp) {
    let admin = app.admin_token().await;
    let in_a_day = Utc::now() + Duration::days(1);
    let (key, id) = my_key(
        app,
        &admin,
        json!({"name": "for a day", "expires_at": in_a_day.to_rfc3339()}),
    )
    .await;
    let listed = app.get(&admin, MY_KEYS).await;
    assert_eq!(listed.body["items"][0]["id"], json!(id));
    assert!(listed.body["items"][0]["expires_at"].is_string());
    assert_eq!(app.get(&key, "/api/v1/me").await.status, StatusCode::OK);

    for expires_at in [
        Utc::now() - Duration::minutes(1),
        Utc::now() + Duration::days(367),
    ] {
        let refused = create_key(
            app,
            &admin,
            json!({"name": "x", "expires_at": expires_at.to_rfc3339()}),
        )
        .await;
        assert_eq!(
            refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
            Some("expires_at")
        );
    }
    create_key(app, &admin, json!({"name": "x", "expires_at": "tomorrow"}))
        .await
        .assert_problem(StatusCode::BAD_REQUEST);

    // An expiry that has passed since it was given.
    let (admin_id, org) = whoami(app, &admin).await;
    let an_hour_ago = Utc::now() - Duration::hours(1);
    let expired = app
        .store
        .create_api_key(
            &Ctx::new(org, Actor::User(admin_id)),
            NewApiKey {
                owner: KeyOwner::User(admin_id),
                name: Name::parse("name", "expired").expect("name"),
                scopes: KeyScopes::owners(),
                expires_at: Some(
                    KeyExpiry::parse(an_hour_ago, an_hour_ago - Duration::minutes(1))
                        .expect("expiry"),
                ),
            },
        )
        .await
        .expect("an expired key");
    app.get(expired.secret.expose(), "/api/v1/me")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);

    let revoked = app.delete(&admin, &format!("{MY_KEYS}/{id}")).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    app.get(&key, "/api/v1/me")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);

    let forged = format!("{}{}", &key[..key.len() - 4], "AAAA");
    for garbage in [
        "osk_",
        "osk_not-a-key",
        &key[..key.len() - 1],
        forged.as_str(),
    ] {
        app.get(garbage, "/api/v1/me")
            .await
            .assert_problem(StatusCode::UNAUTHORIZED);
    }

    // A deactivated user's keys stop at once.
    let service = app
        .create_user(&admin, "ci@example.test", &["developer"])
        .await;
    let service_token = app.token("ci@example.test", USER_PASSWORD).await;
    let (service_key, _) = my_key(app, &service_token, json!({"name": "ci"})).await;
    assert_eq!(
        app.get(&service_key, "/api/v1/projects").await.status,
        StatusCode::OK
    );
    let path = format!("/api/v1/users/{}", text(&service["id"]));
    let deactivated = app.patch(&admin, &path, json!({"active": false})).await;
    assert_eq!(deactivated.status, StatusCode::OK, "{}", deactivated.body);
    app.get(&service_key, "/api/v1/projects")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}

/// A key cannot change the password, see or end sessions, or log out; the keys it creates stay
/// within its own scopes and expiry.
pub async fn a_key_cannot_do_what_needs_a_login(app: &TestApp) {
    let admin = app.admin_token().await;
    let soon = Utc::now() + Duration::hours(2);
    let (key, _) = my_key(
        app,
        &admin,
        json!({"name": "automation", "scopes": ["projects:read", "users:read"], "expires_at": soon.to_rfc3339()}),
    )
    .await;

    let password = app
        .post(
            &key,
            "/api/v1/me/password",
            json!({"current_password": ADMIN_PASSWORD, "new_password": "another long password"}),
        )
        .await;
    password.assert_problem(StatusCode::FORBIDDEN);
    app.get(&key, "/api/v1/sessions")
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    app.delete(&key, "/api/v1/sessions")
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    app.post(&key, "/api/v1/auth/logout", json!({}))
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    // The password did not change.
    app.token(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // A key names the scopes of the keys it creates, each one it holds, and they expire no
    // later than it does.
    let cases = [
        (
            json!({"name": "x", "expires_at": soon.to_rfc3339()}),
            "scopes",
        ),
        (
            json!({"name": "x", "scopes": ["users:write"], "expires_at": soon.to_rfc3339()}),
            "scopes",
        ),
        (json!({"name": "x", "scopes": ["users:read"]}), "expires_at"),
        (
            json!({"name": "x", "scopes": ["users:read"], "expires_at": (soon + Duration::hours(1)).to_rfc3339()}),
            "expires_at",
        ),
    ];
    for (body, field) in cases {
        let refused = create_key(app, &key, body.clone()).await;
        assert_eq!(
            refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
            Some(field),
            "{body}"
        );
    }
    let sooner = soon - Duration::hours(1);
    let (child, _) = my_key(
        app,
        &key,
        json!({"name": "child", "scopes": ["users:read"], "expires_at": sooner.to_rfc3339()}),
    )
    .await;
    assert_eq!(
        app.get(&child, "/api/v1/users").await.status,
        StatusCode::OK
    );
    app.get(&child, "/api/v1/projects")
        .await
        .assert_problem(StatusCode::FORBIDDEN);
}

/// Administrators (`users:write`) list and revoke a user's keys; others may not, and another
/// organization sees neither the user nor the keys.
pub async fn administrators_list_and_revoke_users_keys(app: &TestApp) {
    let admin = app.admin_token().await;
    let ada = app
        .create_user(&admin, "ada@example.test", &["developer"])
        .await;
    let ada_token = app.token("ada@example.test", USER_PASSWORD).await;
    let (key, id) = my_key(app, &ada_token, json!({"name": "ci"})).await;
    let keys = format!("/api/v1/users/{}/api-keys", text(&ada["id"]));

    let listed = app.get(&admin, &keys).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["items"][0]["id"], json!(id));
    assert!(listed.body["items"][0].get("secret").is_none());
    app.get(&ada_token, &keys)
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    app.delete(&ada_token, &format!("{keys}/{id}"))
        .await
        .assert_problem(StatusCode::FORBIDDEN);

    Fixture::create(app.store.as_ref(), "other", "another organization password").await;
    let other = app
        .token_in("other", "owner@other.test", "another organization password")
        .await;
    app.get(&other, &keys)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.delete(&other, &format!("{keys}/{id}"))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    assert_eq!(app.get(&key, "/api/v1/me").await.status, StatusCode::OK);

    let revoked = app.delete(&admin, &format!("{keys}/{id}")).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.body);
    app.get(&key, "/api/v1/me")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    let unknown = format!("{keys}/{}", uuid::Uuid::now_v7());
    app.delete(&admin, &unknown)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

/// An agent's key takes scopes within the `agent` role's permissions, and an expiry.
pub async fn agent_keys_take_scopes_and_an_expiry(app: &TestApp) {
    let admin = app.admin_token().await;
    let agent = app
        .post(
            &admin,
            "/api/v1/agents",
            json!({"name": "reader", "kind": "bot"}),
        )
        .await;
    assert_eq!(agent.status, StatusCode::CREATED, "{}", agent.body);
    let keys = format!("/api/v1/agents/{}/api-keys", text(&agent.body["id"]));

    let beyond = app
        .post(
            &admin,
            &keys,
            json!({"name": "x", "scopes": ["users:write"]}),
        )
        .await;
    assert_eq!(
        beyond.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("scopes")
    );
    let in_a_week = Utc::now() + Duration::days(7);
    let issued = app
        .post(
            &admin,
            &keys,
            json!({"name": "reader", "scopes": ["tasks:read"], "expires_at": in_a_week.to_rfc3339()}),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    assert_eq!(issued.body["agent_id"], agent.body["id"]);
    assert_eq!(issued.body["user_id"], Value::Null);
    assert_eq!(issued.body["scopes"], json!(["tasks:read"]));
    assert!(issued.body["expires_at"].is_string());
    let key = text(&issued.body["secret"]);
    assert_eq!(app.get(key, "/api/v1/tasks").await.status, StatusCode::OK);
    app.post(key, "/api/v1/queue/claim", json!({}))
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    let listed = app.get(&admin, &keys).await;
    assert_eq!(listed.body["items"][0]["scopes"], json!(["tasks:read"]));
    // An agent's key is no user's: it has no keys of its own.
    app.get(key, MY_KEYS)
        .await
        .assert_problem(StatusCode::FORBIDDEN);
}
