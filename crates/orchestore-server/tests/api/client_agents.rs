//! `/api/v1/agents` and `/api/v1/messages` through the typed client.

use futures_util::TryStreamExt;
use orchestore_client::Credential;
use orchestore_client::api::agents::{CreateAgentBody, ListAgentsQuery, PatchAgentBody};
use orchestore_client::api::api_keys::CreateApiKeyBody;
use orchestore_client::api::messages::{
    ListMessagesQuery, MarkReadBody, SendMessageBody, UnreadCountQuery,
};
use orchestore_client::api::queue::ClaimBody;
use orchestore_client::api::{PageQuery, PatchField};
use orchestore_domain::{AgentStatus, Participant, ThreadId};

use crate::helpers::*;

fn agent_named(name: &str) -> CreateAgentBody {
    CreateAgentBody {
        name: name.into(),
        kind: "ai".into(),
        ..Default::default()
    }
}

pub async fn agents_are_managed_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let created = client
        .create_agent(&CreateAgentBody {
            capabilities: Some(vec!["rust".into(), "sql".into()]),
            model: Some("gpt-5".into()),
            ..agent_named("coder")
        })
        .await
        .expect("created");
    assert_eq!(created.name.as_str(), "coder");
    assert_eq!(created.status, AgentStatus::Active);
    assert_eq!(client.get_agent(created.id).await.expect("read"), created);

    for name in ["reviewer", "tester"] {
        client
            .create_agent(&agent_named(name))
            .await
            .expect("created");
    }
    let rust_only = client
        .list_agents(&ListAgentsQuery {
            capabilities: Some("rust".into()),
            ..Default::default()
        })
        .await
        .expect("a page");
    assert_eq!(rust_only.items.len(), 1);
    assert_eq!(rust_only.items[0].id, created.id);
    let every: Vec<_> = client
        .list_agents_stream(&ListAgentsQuery {
            limit: Some(2),
            ..Default::default()
        })
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every.len(), 3);

    let paused = client
        .update_agent(
            created.id,
            &PatchAgentBody {
                status: PatchField::Value("offline".into()),
                model: PatchField::Null,
                ..Default::default()
            },
            Some(created.revision),
        )
        .await
        .expect("changed");
    assert_eq!(paused.status, AgentStatus::Offline);
    assert_eq!(paused.model, None, "null clears the model");
    assert_eq!(paused.capabilities, created.capabilities);

    let alive = client.heartbeat(created.id).await.expect("heartbeat");
    assert_eq!(
        alive.status,
        AgentStatus::Active,
        "a heartbeat wakes an offline agent"
    );
    assert!(alive.last_heartbeat_at.is_some());
    let stats = client.agent_stats(created.id).await.expect("stats");
    assert_eq!(stats.tasks_completed, 0);

    // The revision read before the change is stale now: nothing is deleted.
    let stale = client
        .delete_agent(created.id, Some(created.revision))
        .await
        .expect_err("stale");
    assert_eq!(stale.status(), Some(412));
    client
        .delete_agent(created.id, Some(alive.revision))
        .await
        .expect("deleted");
    let gone = client.get_agent(created.id).await.expect_err("gone");
    assert_eq!(gone.status(), Some(404));

    let err = client
        .create_agent(&CreateAgentBody {
            name: " ".into(),
            kind: "robot".into(),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(err.status(), Some(422));
    let problem = err.problem().expect("a problem document");
    let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["name", "kind"]);
}

pub async fn messages_are_sent_and_read_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let coder = client
        .create_agent(&agent_named("coder"))
        .await
        .expect("agent");
    let reviewer = client
        .create_agent(&agent_named("reviewer"))
        .await
        .expect("agent");
    let thread = ThreadId::new();
    let mut sent = Vec::new();
    for content in ["ready for review", "one more commit"] {
        let message = client
            .send_message(&SendMessageBody {
                sender: Some(Participant::Agent(coder.id).into()),
                thread_id: Some(thread),
                ..SendMessageBody::new(Participant::Agent(reviewer.id), content)
            })
            .await
            .expect("sent");
        assert_eq!(message.sender, Participant::Agent(coder.id));
        assert!(!message.is_read());
        sent.push(message);
    }
    assert_eq!(client.get_message(sent[0].id).await.expect("read"), sent[0]);

    let to_reviewer = UnreadCountQuery {
        recipient_kind: Some("agent".into()),
        recipient_id: Some(reviewer.id.into()),
    };
    let count = client.unread_count(&to_reviewer).await.expect("count");
    assert_eq!(count.recipient, Participant::Agent(reviewer.id));
    assert_eq!(count.unread, 2);

    let read = client.read_message(sent[0].id).await.expect("read");
    assert!(read.is_read());
    let marked = client
        .mark_messages_read(&MarkReadBody {
            recipient: Some(Participant::Agent(reviewer.id).into()),
            thread_id: Some(thread),
            ..Default::default()
        })
        .await
        .expect("marked");
    assert_eq!(marked.marked, 1, "the message read already is not counted");
    let count = client.unread_count(&to_reviewer).await.expect("count");
    assert_eq!(count.unread, 0);

    let in_thread: Vec<_> = client
        .list_messages_stream(&ListMessagesQuery {
            thread_id: Some(thread),
            limit: Some(1),
            ..Default::default()
        })
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(in_thread.len(), 2);
    let page = client
        .list_messages(&ListMessagesQuery {
            unread: Some(true),
            ..Default::default()
        })
        .await
        .expect("a page");
    assert!(page.items.is_empty());

    let err = client
        .send_message(&SendMessageBody::new(Participant::Agent(coder.id), " "))
        .await
        .expect_err("no content");
    assert_eq!(err.status(), Some(422));
    let err = client
        .mark_messages_read(&MarkReadBody::default())
        .await
        .expect_err("names nothing");
    assert_eq!(
        err.problem().map(|p| p.errors[0].field.as_str()),
        Some("ids")
    );
}

pub async fn an_agent_key_lets_its_worker_act_as_the_agent(app: &TestApp) {
    let client = app.admin_client().await;
    let agent = client
        .create_agent(&agent_named("worker"))
        .await
        .expect("an agent");
    let issued = client
        .create_agent_api_key(
            agent.id,
            &CreateApiKeyBody {
                name: "laptop".into(),
                scopes: None,
                expires_at: None,
            },
        )
        .await
        .expect("a key");
    let worker = app.client(Credential::ApiKey(issued.secret.expose().to_owned()));
    // The key implies its agent: a claim names none.
    let claimed = worker
        .claim_tasks(&ClaimBody::default())
        .await
        .expect("a claim as the agent");
    assert!(claimed.items.is_empty());

    let page = client
        .list_agent_api_keys(agent.id, &PageQuery::default())
        .await
        .expect("a page");
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].id, issued.key.id);
    let every: Vec<_> = client
        .list_agent_api_keys_stream(agent.id, &PageQuery::default())
        .try_collect()
        .await
        .expect("every key");
    assert_eq!(every.len(), 1);

    client
        .revoke_agent_api_key(agent.id, issued.key.id)
        .await
        .expect("revoked");
    let refused = worker
        .claim_tasks(&ClaimBody::default())
        .await
        .expect_err("a revoked key");
    assert_eq!(refused.status(), Some(401));
}
