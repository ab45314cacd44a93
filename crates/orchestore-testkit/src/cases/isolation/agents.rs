//! Agents, their API keys, and messages.

use super::*;

pub(super) async fn check_agents_and_messages<S: Store + ?Sized>(
    store: &S,
    a: &Holdings,
    b: &Holdings,
    c: &mut Checks,
) {
    let ctx = &b.fixture.ctx;
    c.clean(
        "create_agent",
        store
            .create_agent(ctx, NewAgent::named(a.agent.name.clone(), AgentKind::Ai))
            .await,
    );
    c.not_found("get_agent", store.get_agent(ctx, a.agent.id).await);
    c.clean(
        "list_agents",
        store.list_agents(ctx, Default::default(), all()).await,
    );
    c.not_found(
        "update_agent",
        store
            .update_agent(ctx, a.agent.id, AgentPatch::default(), None)
            .await,
    );
    c.not_found(
        "delete_agent",
        store.delete_agent(ctx, a.agent.id, None).await,
    );
    c.not_found(
        "record_heartbeat",
        store.record_heartbeat(ctx, a.agent.id).await,
    );
    c.not_found("agent_stats", store.agent_stats(ctx, a.agent.id).await);
    for (a_owner, b_owner) in [
        (KeyOwner::Agent(a.agent.id), KeyOwner::Agent(b.agent.id)),
        (
            KeyOwner::User(a.fixture.owner.id),
            KeyOwner::User(b.fixture.owner.id),
        ),
    ] {
        let field = if a_owner.agent().is_some() {
            "agent_id"
        } else {
            "user_id"
        };
        c.reference(
            "create_api_key",
            field,
            store
                .create_api_key(ctx, new_key(a_owner, "another host"))
                .await,
        );
        c.not_found(
            "list_api_keys",
            store.list_api_keys(ctx, a_owner, all()).await,
        );
        let a_key = match a_owner {
            KeyOwner::Agent(_) => a.key.key.id,
            KeyOwner::User(_) => a.user_key.key.id,
        };
        c.not_found(
            "revoke_api_key",
            store.revoke_api_key(ctx, a_owner, a_key).await,
        );
        c.not_found(
            "revoke_api_key",
            store.revoke_api_key(ctx, b_owner, a_key).await,
        );
    }
    // A key names its own organization, as a login does.
    c.unscoped("authenticate_api_key");

    let from_b = |to: Participant| {
        NewMessage::new(Participant::User(b.fixture.owner.id), to, content()).expect("a message")
    };
    c.reference(
        "send_message",
        "recipient",
        store
            .send_message(ctx, from_b(Participant::Agent(a.agent.id)))
            .await,
    );
    let about_a = from_b(Participant::Agent(b.agent.id)).with_task(Some(a.task.id));
    c.reference(
        "send_message",
        "task_id",
        store.send_message(ctx, about_a).await,
    );
    let as_a = NewMessage::new(
        Participant::Agent(a.agent.id),
        Participant::Agent(b.agent.id),
        content(),
    )
    .expect("a message");
    c.reference(
        "send_message",
        "sender",
        store.send_message(ctx, as_a).await,
    );
    c.not_found("get_message", store.get_message(ctx, a.message.id).await);
    for filter in [
        MessageFilter {
            thread_id: Some(a.thread),
            ..MessageFilter::default()
        },
        MessageFilter {
            task_id: Some(a.task.id),
            ..MessageFilter::default()
        },
        MessageFilter {
            participant: Some(Participant::Agent(a.agent.id)),
            ..MessageFilter::default()
        },
    ] {
        c.clean(
            "list_messages",
            store.list_messages(ctx, filter, all()).await,
        );
    }
    let ids = MessageIds::parse([a.message.id]).expect("ids");
    c.not_found(
        "mark_read",
        store.mark_read(ctx, MarkRead::Messages(ids)).await,
    );
    let their_thread = |recipient| MarkRead::Thread {
        recipient,
        thread_id: a.thread,
    };
    c.reference(
        "mark_read",
        "recipient",
        store
            .mark_read(ctx, their_thread(Participant::Agent(a.agent.id)))
            .await,
    );
    c.clean(
        "mark_read",
        store
            .mark_read(ctx, their_thread(Participant::Agent(b.agent.id)))
            .await,
    );
    c.reference(
        "unread_count",
        "recipient",
        store
            .unread_count(ctx, Participant::Agent(a.agent.id))
            .await,
    );
}
