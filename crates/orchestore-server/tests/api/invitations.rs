//! `/api/v1/invitations` and `POST /api/v1/invitations/accept`.

use chrono::{DateTime, Utc};
use orchestore_domain::{Email, OrganizationId, UserId};
use orchestore_repo::{Actor, Ctx, NewInvitation};
use orchestore_testkit::Fixture;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

const ACCEPT: &str = "/api/v1/invitations/accept";
const INVITED_PASSWORD: &str = "a password of my own";

/// Issues an invitation as `token`'s user; the answer, which must be a 201.
async fn invite(app: &TestApp, token: &str, email: &str, roles: &[&str]) -> Value {
    let reply = app
        .post(
            token,
            "/api/v1/invitations",
            json!({ "email": email, "roles": roles }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "invite: {}", reply.body);
    reply.body
}

async fn accept(app: &TestApp, body: Value) -> Reply {
    app.send(Method::POST, ACCEPT, None, Some(body)).await
}

fn acceptance(invitation: &Value) -> Value {
    json!({
        "token": invitation["token"],
        "display_name": "Invited Person",
        "password": INVITED_PASSWORD,
    })
}

fn id_of(value: &Value) -> &str {
    value["id"].as_str().expect("an id")
}

fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("a time: {value}"))
}

/// The detail of the one 404 every spent or unknown token gets.
async fn spent(app: &TestApp, body: Value) -> String {
    let reply = accept(app, body).await;
    reply.assert_problem(StatusCode::NOT_FOUND);
    reply.body["detail"].as_str().expect("a detail").to_owned()
}

pub async fn invitation_lifecycle(app: &TestApp) {
    let admin = app.admin_token().await;
    let issued = app
        .post(
            &admin,
            "/api/v1/invitations",
            json!({ "email": "Ada@Example.test", "roles": ["developer"] }),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let invitation = issued.body.clone();
    let path = format!("/api/v1/invitations/{}", id_of(&invitation));
    assert_eq!(issued.header("location"), path);
    assert_eq!(issued.header("cache-control"), "no-store");
    assert!(
        invitation["token"]
            .as_str()
            .is_some_and(|token| token.starts_with("osi_"))
    );
    assert_eq!(invitation["email"], "ada@example.test");
    assert_eq!(invitation["roles"], json!(["developer"]));
    assert!(invitation["accepted_at"].is_null() && invitation["revoked_at"].is_null());
    // `auth.invitation_ttl`: seven days by default.
    let lifetime = time(&invitation["expires_at"]) - time(&invitation["created_at"]);
    let week = 7 * 24 * 3600;
    assert!(
        (week - 5..=week).contains(&lifetime.num_seconds()),
        "{lifetime}"
    );

    // Listed and read without the token.
    let listed = app.get(&admin, "/api/v1/invitations").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(ids(&listed.body["items"]), [id_of(&invitation)]);
    assert!(listed.body["items"][0].get("token").is_none());
    let read = app.get(&admin, &path).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(read.body.get("token").is_none());
    assert_eq!(read.body["email"], "ada@example.test");

    // Accepted without logging in: the answer is a login's, with the new user's Location.
    let accepted = accept(app, acceptance(&invitation)).await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.body);
    assert_eq!(accepted.header("cache-control"), "no-store");
    assert_eq!(accepted.body["token_type"], "Bearer");
    assert!(accepted.body["refresh_token"].is_string());
    let user_path = accepted.header("location").to_owned();
    assert!(user_path.starts_with("/api/v1/users/"), "{user_path}");
    let token = accepted.body["access_token"].as_str().expect("a token");
    let me = app.get(token, "/api/v1/me").await;
    assert_eq!(me.body["user"]["email"], "ada@example.test");
    assert_eq!(me.body["user"]["display_name"], "Invited Person");
    let permissions = me.body["permissions"].as_array().expect("permissions");
    assert!(
        permissions.contains(&json!("tasks:write")),
        "{permissions:?}"
    );
    assert!(
        !permissions.contains(&json!("users:write")),
        "{permissions:?}"
    );
    // The developer role works, and the user logs in with the password they chose.
    app.create_project(token, "Apollo").await;
    app.token("ada@example.test", INVITED_PASSWORD).await;
    let roles = app.get(&admin, &format!("{user_path}/roles")).await;
    assert_eq!(roles.body["items"][0]["code"], "developer");

    // Spent: not pending, and a second use is the 404 of any unknown token.
    assert_eq!(
        app.get(&admin, "/api/v1/invitations").await.body["items"],
        json!([])
    );
    let read = app.get(&admin, &path).await;
    assert_eq!(
        Some(format!(
            "/api/v1/users/{}",
            read.body["accepted_user_id"].as_str().expect("id")
        )),
        Some(user_path)
    );
    assert!(read.body["accepted_at"].is_string());
    let again = spent(app, acceptance(&invitation)).await;
    let unknown = spent(
        app,
        json!({ "token": format!("osi_{}", "A".repeat(43)), "display_name": "X", "password": INVITED_PASSWORD }),
    )
    .await;
    assert_eq!(again, unknown);
    // An accepted invitation cannot be revoked: its user exists.
    app.delete(&admin, &path)
        .await
        .assert_problem(StatusCode::CONFLICT);
}

pub async fn revoked_expired_and_unknown_tokens_are_one_404(app: &TestApp) {
    let admin = app.admin_token().await;
    let revoked = invite(app, &admin, "revoked@example.test", &[]).await;
    let path = format!("/api/v1/invitations/{}", id_of(&revoked));
    let gone = app.delete(&admin, &path).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    assert_eq!(
        app.delete(&admin, &path).await.status,
        StatusCode::NO_CONTENT
    );
    assert!(app.get(&admin, &path).await.body["revoked_at"].is_string());

    // Expired: issued through the store a second ago.
    let organization = app.get(&admin, "/api/v1/organization").await.body;
    let me = app.get(&admin, "/api/v1/me").await.body;
    let ctx = Ctx::new(
        id_of(&organization)
            .parse::<OrganizationId>()
            .expect("organization id"),
        Actor::User(id_of(&me["user"]).parse::<UserId>().expect("user id")),
    );
    let expired = app
        .store
        .create_invitation(
            &ctx,
            NewInvitation {
                email: Email::parse("late@example.test").expect("email"),
                roles: Vec::new(),
                expires_at: Utc::now() - chrono::Duration::seconds(1),
            },
        )
        .await
        .expect("an expired invitation");

    let detail = spent(app, acceptance(&revoked)).await;
    let body =
        |token: &str| json!({ "token": token, "display_name": "X", "password": INVITED_PASSWORD });
    for token in [
        expired.token.expose().to_owned(),
        format!("osi_{}", "B".repeat(43)),
        "not a token".to_owned(),
        String::new(),
    ] {
        assert_eq!(spent(app, body(&token)).await, detail, "{token}");
    }
    assert_eq!(
        app.get(&admin, "/api/v1/invitations").await.body["items"],
        json!([])
    );
    app.login("revoked@example.test", INVITED_PASSWORD)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
}

pub async fn invitation_input_is_checked(app: &TestApp) {
    let admin = app.admin_token().await;
    app.create_user(&admin, "taken@example.test", &["viewer"])
        .await;
    for (body, status, field) in [
        (
            json!({ "email": "ada@example.test", "roles": ["no-such-role"] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "roles",
        ),
        (
            json!({ "email": "ada@example.test", "roles": ["Not A Code"] }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "roles",
        ),
        (
            json!({ "email": "not an address" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "email",
        ),
        (
            json!({ "email": "TAKEN@example.test" }),
            StatusCode::CONFLICT,
            "email",
        ),
        (
            json!({ "email": "ada@example.test", "expires_at": "never" }),
            StatusCode::BAD_REQUEST,
            "expires_at",
        ),
    ] {
        let refused = app.post(&admin, "/api/v1/invitations", body.clone()).await;
        assert_eq!(refused.assert_problem(status), Some(field), "{body}");
    }
    assert_eq!(
        app.get(&admin, "/api/v1/invitations").await.body["items"],
        json!([])
    );

    // The permissions of `POST /users`: users:write, and roles:write to grant roles.
    app.create_user(&admin, "viewer@example.test", &["viewer"])
        .await;
    let viewer = app.token("viewer@example.test", USER_PASSWORD).await;
    app.post(
        &viewer,
        "/api/v1/invitations",
        json!({ "email": "x@example.test" }),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN);
    app.get(&viewer, "/api/v1/invitations")
        .await
        .assert_problem(StatusCode::FORBIDDEN);
    let hr = app
        .post(
            &admin,
            "/api/v1/roles",
            json!({ "code": "hr", "permissions": ["users:read", "users:write"] }),
        )
        .await;
    assert_eq!(hr.status, StatusCode::CREATED, "{}", hr.body);
    app.create_user(&admin, "hr@example.test", &["hr"]).await;
    let hr = app.token("hr@example.test", USER_PASSWORD).await;
    let needs = app
        .post(
            &hr,
            "/api/v1/invitations",
            json!({ "email": "x@example.test", "roles": ["owner"] }),
        )
        .await;
    needs.assert_problem(StatusCode::FORBIDDEN);
    assert!(
        needs.body["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("roles:write"))
    );
    let plain = invite(app, &hr, "x@example.test", &[]).await;
    assert_eq!(plain["roles"], json!([]));
    app.delete(&viewer, &format!("/api/v1/invitations/{}", id_of(&plain)))
        .await
        .assert_problem(StatusCode::FORBIDDEN);

    // Acceptance: the password policy against the invited address, the other fields, then
    // whatever changed since the invitation.
    let carol = invite(app, &admin, "carol@example.test", &[]).await;
    for (password, display_name) in [
        ("password123", "Carol"),
        ("carol@example.test", "Carol"),
        ("CAROL", "Carol"),
        ("short", "Carol"),
    ] {
        let refused = accept(
            app,
            json!({ "token": carol["token"], "display_name": display_name, "password": password }),
        )
        .await;
        assert_eq!(
            refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
            Some("password"),
            "{password}"
        );
    }
    let refused = accept(
        app,
        json!({ "token": carol["token"], "display_name": " ", "password": "x", "username": "no way" }),
    )
    .await;
    refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_fields(&refused.body),
        ["display_name", "password", "username"]
    );
    for body in [
        json!({ "token": carol["token"], "password": INVITED_PASSWORD }),
        json!({ "token": carol["token"], "display_name": "Carol", "password": INVITED_PASSWORD, "email": "me@example.test" }),
    ] {
        accept(app, body)
            .await
            .assert_problem(StatusCode::BAD_REQUEST);
    }
    // A username someone has is a 409 on it.
    let admin_id = id_of(&app.get(&admin, "/api/v1/me").await.body["user"]).to_owned();
    let named = app
        .patch(
            &admin,
            &format!("/api/v1/users/{admin_id}"),
            json!({ "username": "taken" }),
        )
        .await;
    assert_eq!(named.status, StatusCode::OK, "{}", named.body);
    let taken = accept(
        app,
        json!({ "token": carol["token"], "display_name": "Carol", "password": INVITED_PASSWORD, "username": "Taken" }),
    )
    .await;
    assert_eq!(taken.assert_problem(StatusCode::CONFLICT), Some("username"));
    // The address became a user's meanwhile: 409, and the invitation stays pending.
    app.create_user(&admin, "carol@example.test", &[]).await;
    let conflict = accept(app, acceptance(&carol)).await;
    assert_eq!(conflict.assert_problem(StatusCode::CONFLICT), Some("email"));
    assert!(
        app.get(&admin, &format!("/api/v1/invitations/{}", id_of(&carol)))
            .await
            .body["accepted_at"]
            .is_null()
    );
}

pub async fn another_organization_sees_no_invitations(app: &TestApp) {
    let admin = app.admin_token().await;
    let ours = invite(app, &admin, "ada@example.test", &["developer"]).await;
    let path = format!("/api/v1/invitations/{}", id_of(&ours));

    Fixture::create(app.store.as_ref(), "other", "another organization password").await;
    let other = app
        .token_in("other", "owner@other.test", "another organization password")
        .await;
    app.get(&other, &path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.delete(&other, &path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&other, "/api/v1/invitations").await.body["items"],
        json!([])
    );
    // Their own custom role is no role of ours to grant.
    let theirs = app
        .post(&other, "/api/v1/roles", json!({ "code": "qa" }))
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);
    let refused = app
        .post(
            &admin,
            "/api/v1/invitations",
            json!({ "email": "bob@example.test", "roles": ["qa"] }),
        )
        .await;
    assert_eq!(
        refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("roles")
    );
    // Still ours, still pending.
    let read = app.get(&admin, &path).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(read.body["revoked_at"].is_null());
}
