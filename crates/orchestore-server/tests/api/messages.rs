//! `/api/v1/messages`.

use orchestore_domain::{
    Email, Name, NewUser, OrganizationId, Password, PasswordHash, SystemRole, User,
};
use orchestore_repo::Ctx;
use orchestore_testkit::{Fixture, TEST_BCRYPT_COST};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// A user of the bootstrapped organization with `role`, and a token for it.
async fn member(app: &TestApp, admin: &str, email: &str, role: SystemRole) -> (User, String) {
    let org = app.get(admin, "/api/v1/organization").await;
    let org_id: OrganizationId = org.body["id"]
        .as_str()
        .expect("org id")
        .parse()
        .expect("a uuid");
    let password = Password::parse("member-password").expect("password");
    let user = app
        .store
        .create_user(
            &Ctx::system(org_id),
            NewUser {
                email: Email::parse(email).expect("email"),
                username: None,
                display_name: Name::parse("display_name", "Member").expect("name"),
                password_hash: PasswordHash::hash(&password, TEST_BCRYPT_COST).expect("hash"),
                roles: vec![role.into()],
            },
        )
        .await
        .expect("create member");
    let token = app.token(email, "member-password").await;
    (user, token)
}

async fn create_agent(app: &TestApp, token: &str, name: &str) -> Value {
    let reply = app
        .post(token, "/api/v1/agents", json!({"name": name, "kind": "ai"}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

async fn admin_id(app: &TestApp, token: &str) -> String {
    let me = app.get(token, "/api/v1/me").await;
    me.body["user"]["id"].as_str().expect("user id").to_owned()
}

pub async fn message_lifecycle(app: &TestApp) {
    let admin = app.admin_token().await;
    let admin_id = admin_id(app, &admin).await;
    let planner = create_agent(app, &admin, "planner").await;
    let planner_end = json!({"kind": "agent", "id": planner["id"]});
    let project = app.create_project(&admin, "Apollo").await;
    let task = app.create_task(&admin, &project, "plan the flight").await;
    let thread = "0190a000-0000-7000-8000-000000000001";

    // Sender left out: the caller.
    let asked = app
        .post(
            &admin,
            "/api/v1/messages",
            json!({
                "recipient": planner_end,
                "content": "please plan",
                "task_id": task["id"],
                "thread_id": thread,
                "metadata": {"urgent": true},
            }),
        )
        .await;
    assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.body);
    let asked_id = asked.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        asked.header("location"),
        format!("/api/v1/messages/{asked_id}")
    );
    assert_eq!(
        asked.body["sender"],
        json!({"kind": "user", "id": admin_id})
    );
    assert_eq!(asked.body["recipient"], planner_end);
    assert_eq!(asked.body["thread_id"], thread);
    assert_eq!(asked.body["read_at"], json!(null));

    // As an agent of the organization; its counter grows.
    let replied = app
        .post(
            &admin,
            "/api/v1/messages",
            json!({
                "sender": planner_end,
                "recipient": {"kind": "user", "id": admin_id},
                "content": "on it",
                "thread_id": thread,
            }),
        )
        .await;
    assert_eq!(replied.status, StatusCode::CREATED, "{}", replied.body);
    let replied_id = replied.body["id"].as_str().expect("id").to_owned();
    let agent = app
        .get(
            &admin,
            &format!("/api/v1/agents/{}", planner["id"].as_str().expect("id")),
        )
        .await;
    assert_eq!(agent.body["messages_sent"], 1);

    let read = app
        .get(&admin, &format!("/api/v1/messages/{asked_id}"))
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, asked.body);

    // Conversations: by thread in both orders, by task, by recipient and unread.
    let list = async |query: &str| {
        let reply = app.get(&admin, &format!("/api/v1/messages?{query}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
        ids(&reply.body["items"])
    };
    assert_eq!(
        list(&format!("thread_id={thread}")).await,
        vec![asked_id.clone(), replied_id.clone()]
    );
    assert_eq!(
        list(&format!("thread_id={thread}&sort=-created_at")).await,
        vec![replied_id.clone(), asked_id.clone()]
    );
    assert_eq!(
        list(&format!("task_id={}", task["id"].as_str().expect("id"))).await,
        vec![asked_id.clone()]
    );
    let to_planner = format!(
        "recipient_kind=agent&recipient_id={}",
        planner["id"].as_str().expect("id")
    );
    assert_eq!(
        list(&format!("{to_planner}&unread=true")).await,
        vec![asked_id.clone()]
    );
    assert_eq!(
        list(&format!("participant_kind=user&participant_id={admin_id}")).await,
        vec![asked_id.clone(), replied_id.clone()]
    );
    let first_page = app.get(&admin, "/api/v1/messages?limit=1").await;
    assert_eq!(ids(&first_page.body["items"]), vec![asked_id.clone()]);
    let cursor = first_page.body["next_cursor"].as_str().expect("a cursor");
    assert_eq!(
        list(&format!("limit=1&cursor={cursor}")).await,
        vec![replied_id.clone()]
    );

    let unread = app
        .get(
            &admin,
            &format!("/api/v1/messages/unread-count?{to_planner}"),
        )
        .await;
    assert_eq!(unread.status, StatusCode::OK, "{}", unread.body);
    assert_eq!(unread.body, json!({"recipient": planner_end, "unread": 1}));
    // Left out: the caller.
    let mine = app.get(&admin, "/api/v1/messages/unread-count").await;
    assert_eq!(mine.body["unread"], 1);
    assert_eq!(mine.body["recipient"]["id"], admin_id);

    // Marking read: once, then again without changing read_at.
    let marked = app
        .post(
            &admin,
            &format!("/api/v1/messages/{asked_id}/read"),
            json!(null),
        )
        .await;
    assert_eq!(marked.status, StatusCode::OK, "{}", marked.body);
    let read_at = marked.body["read_at"].clone();
    assert!(read_at.is_string());
    let again = app
        .post(
            &admin,
            &format!("/api/v1/messages/{asked_id}/read"),
            json!(null),
        )
        .await;
    assert_eq!(again.body["read_at"], read_at);
    assert!(list(&format!("{to_planner}&unread=true")).await.is_empty());

    let by_thread = app
        .post(
            &admin,
            "/api/v1/messages/read",
            json!({"recipient": {"kind": "user", "id": admin_id}, "thread_id": thread}),
        )
        .await;
    assert_eq!(by_thread.status, StatusCode::OK, "{}", by_thread.body);
    assert_eq!(by_thread.body, json!({"marked": 1}));
    let by_ids = app
        .post(
            &admin,
            "/api/v1/messages/read",
            json!({"ids": [asked_id, replied_id]}),
        )
        .await;
    assert_eq!(by_ids.body, json!({"marked": 0}));
    let mine = app.get(&admin, "/api/v1/messages/unread-count").await;
    assert_eq!(mine.body["unread"], 0);

    // Deleting the agent takes its messages along.
    app.delete(
        &admin,
        &format!("/api/v1/agents/{}", planner["id"].as_str().expect("id")),
    )
    .await;
    app.get(&admin, &format!("/api/v1/messages/{asked_id}"))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

pub async fn message_input_is_checked(app: &TestApp) {
    let admin = app.admin_token().await;
    let admin_id = admin_id(app, &admin).await;
    let agent = create_agent(app, &admin, "coder").await;
    let agent_end = json!({"kind": "agent", "id": agent["id"]});

    let bad = app
        .post(
            &admin,
            "/api/v1/messages",
            json!({
                "sender": {"kind": "robot", "id": admin_id},
                "recipient": {"kind": "bot", "id": agent["id"]},
                "content": " \n ",
                "metadata": [1, 2],
            }),
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
    assert_eq!(
        fields,
        vec!["content", "metadata", "recipient.kind", "sender.kind"]
    );

    let send = async |body: Value| app.post(&admin, "/api/v1/messages", body).await;
    let missing = send(json!({
        "recipient": {"kind": "agent", "id": "0190a000-0000-7000-8000-000000000002"},
        "content": "anyone?",
    }))
    .await;
    assert_eq!(
        missing.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("recipient")
    );
    let no_task = send(json!({
        "recipient": agent_end,
        "content": "about nothing",
        "task_id": "0190a000-0000-7000-8000-000000000003",
    }))
    .await;
    assert_eq!(
        no_task.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("task_id")
    );
    let to_self = send(json!({
        "recipient": {"kind": "user", "id": admin_id},
        "content": "note to self",
    }))
    .await;
    assert_eq!(
        to_self.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("recipient")
    );
    let not_a_uuid =
        send(json!({"recipient": {"kind": "agent", "id": "x"}, "content": "hi"})).await;
    assert_eq!(
        not_a_uuid.assert_problem(StatusCode::BAD_REQUEST),
        Some("recipient.id")
    );

    // A user sends as itself or as an agent, never as another user.
    let (developer, developer_token) =
        member(app, &admin, "dev@example.test", SystemRole::Developer).await;
    let as_admin = app
        .post(
            &developer_token,
            "/api/v1/messages",
            json!({
                "sender": {"kind": "user", "id": admin_id},
                "recipient": agent_end,
                "content": "it was not me",
            }),
        )
        .await;
    as_admin.assert_problem(StatusCode::FORBIDDEN);
    assert!(
        as_admin.body["detail"]
            .as_str()
            .expect("detail")
            .contains("only as itself")
    );
    let as_itself = app
        .post(
            &developer_token,
            "/api/v1/messages",
            json!({
                "sender": {"kind": "user", "id": developer.id},
                "recipient": {"kind": "user", "id": admin_id},
                "content": "hello admin",
            }),
        )
        .await;
    assert_eq!(as_itself.status, StatusCode::CREATED, "{}", as_itself.body);

    // A viewer reads but does not send or mark read.
    let (_, viewer) = member(app, &admin, "viewer@example.test", SystemRole::Viewer).await;
    let listed = app.get(&viewer, "/api/v1/messages").await;
    assert_eq!(ids(&listed.body["items"]).len(), 1);
    app.post(
        &viewer,
        "/api/v1/messages",
        json!({"recipient": agent_end, "content": "no"}),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN);
    let id = as_itself.body["id"].as_str().expect("id");
    app.post(&viewer, &format!("/api/v1/messages/{id}/read"), json!(null))
        .await
        .assert_problem(StatusCode::FORBIDDEN);

    // Another organization sees none of it.
    Fixture::create(app.store.as_ref(), "other", "another organization password").await;
    let other = app
        .token_in("other", "owner@other.test", "another organization password")
        .await;
    app.get(&other, &format!("/api/v1/messages/{id}"))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    app.post(&other, &format!("/api/v1/messages/{id}/read"), json!(null))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    let theirs = app.get(&other, "/api/v1/messages").await;
    assert_eq!(theirs.body["items"], json!([]));

    // Lists and marking read check their parameters.
    for query in [
        "recipient_kind=agent",
        "participant_id=0190a000-0000-7000-8000-000000000004",
        "recipient_kind=robot&recipient_id=0190a000-0000-7000-8000-000000000004",
        "sort=-priority",
    ] {
        app.get(&admin, &format!("/api/v1/messages?{query}"))
            .await
            .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
    app.get(&admin, "/api/v1/messages?unread=maybe")
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
    let unknown_recipient = app
        .get(
            &admin,
            "/api/v1/messages/unread-count?recipient_kind=agent&recipient_id=0190a000-0000-7000-8000-000000000005",
        )
        .await;
    assert_eq!(
        unknown_recipient.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("recipient")
    );
    for (body, field) in [
        (json!({}), "ids"),
        (json!({"ids": []}), "ids"),
        (
            json!({"thread_id": "0190a000-0000-7000-8000-000000000006"}),
            "recipient",
        ),
        (json!({"recipient": agent_end}), "thread_id"),
    ] {
        let reply = app.post(&admin, "/api/v1/messages/read", body).await;
        assert_eq!(
            reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
            Some(field)
        );
    }
    let unknown = app
        .post(
            &admin,
            "/api/v1/messages/read",
            json!({"ids": [id, "0190a000-0000-7000-8000-000000000007"]}),
        )
        .await;
    unknown.assert_problem(StatusCode::NOT_FOUND);
    app.get(&admin, "/api/v1/messages/not-an-id")
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
    app.get(&admin, "/api/v1/messages/read")
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED);
}
