//! Messages.

use orchestore_domain::{
    Agent, AgentId, AgentKind, MessageContent, MessageId, MessageIds, Metadata, Name, NewAgent,
    NewMessage, Participant, TaskId, ThreadId, UserId,
};
use orchestore_repo::{
    AuditEntry, AuditFilter, AuditSort, Ctx, Limit, MarkRead, MessageFilter, MessageSort,
    PageRequest, Store,
};
use serde_json::json;

use super::{PASSWORD, assert_not_found, assert_reference, new_user, task};
use crate::Fixture;

fn message(from: impl Into<Participant>, to: impl Into<Participant>, text: &str) -> NewMessage {
    NewMessage::new(
        from.into(),
        to.into(),
        MessageContent::parse(text).expect("content"),
    )
    .expect("a message between two participants")
}

async fn agent<S: Store + ?Sized>(store: &S, ctx: &Ctx, name: &str) -> Agent {
    store
        .create_agent(
            ctx,
            NewAgent::named(Name::parse("name", name).expect("name"), AgentKind::Ai),
        )
        .await
        .expect("create agent")
}

/// The audit rows of `entity`, newest first.
async fn audit_of<S: Store + ?Sized>(store: &S, ctx: &Ctx, entity: &str) -> Vec<AuditEntry> {
    store
        .list_audit(
            ctx,
            AuditFilter::default(),
            PageRequest::first(Limit::parse(200).expect("limit")).sorted(AuditSort::CreatedAtDesc),
        )
        .await
        .expect("audit")
        .items
        .into_iter()
        .filter(|row| row.entity == entity)
        .collect()
}

async fn listed<S: Store + ?Sized>(store: &S, ctx: &Ctx, filter: MessageFilter) -> Vec<MessageId> {
    store
        .list_messages(ctx, filter, PageRequest::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|m| m.id)
        .collect()
}

pub async fn messages_are_sent_counted_and_scoped_to_the_organization<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let planner = agent(store, &acme.ctx, "planner").await;
    let project = acme.project(store, "Apollo").await;
    let work = store
        .create_task(&acme.ctx, task(project.id, "plan"))
        .await
        .expect("task");
    let thread = ThreadId::new();

    let ask = message(acme.owner.id, planner.id, "  please plan\n")
        .with_task(Some(work.id))
        .with_thread(Some(thread))
        .with_metadata(Metadata::parse("metadata", json!({"urgent": true})).expect("metadata"));
    let sent = store.send_message(&acme.ctx, ask).await.expect("send");
    assert_eq!(sent.sender, Participant::User(acme.owner.id));
    assert_eq!(sent.recipient, Participant::Agent(planner.id));
    assert_eq!(sent.content.as_str(), "  please plan\n");
    assert_eq!(
        (sent.task_id, sent.thread_id),
        (Some(work.id), Some(thread))
    );
    assert_eq!(sent.metadata.to_value(), json!({"urgent": true}));
    assert_eq!(sent.read_at, None);
    assert_eq!(
        store.get_message(&acme.ctx, sent.id).await.expect("get"),
        sent
    );
    assert_not_found(store.get_message(&other.ctx, sent.id).await, "message");
    assert!(
        listed(store, &other.ctx, MessageFilter::default())
            .await
            .is_empty()
    );
    // A user sender counts nothing.
    let unchanged = store.get_agent(&acme.ctx, planner.id).await.expect("agent");
    assert_eq!(unchanged.messages_sent, 0);

    // An agent sender's counter grows with each message it sends.
    for text in ["on it", "done"] {
        store
            .send_message(&acme.ctx, message(planner.id, acme.owner.id, text))
            .await
            .expect("reply");
    }
    let counted = store.get_agent(&acme.ctx, planner.id).await.expect("agent");
    assert_eq!(counted.messages_sent, 2);
    assert_eq!(counted.updated_at, planner.updated_at);

    let log = audit_of(store, &acme.ctx, "message").await;
    assert_eq!(log.len(), 3);
    assert_eq!(log[2].action, "message.create");
    assert_eq!(log[2].entity_id, sent.id.to_string());
    assert_eq!(
        log[2].changes["sender"],
        json!({"kind": "user", "id": acme.owner.id})
    );
    assert_eq!(log[2].changes["content"], "  please plan\n");
}

pub async fn sending_needs_participants_and_a_task_of_the_organization<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let coder = agent(store, &acme.ctx, "coder").await;
    let foreign_agent = agent(store, &other.ctx, "coder").await;
    let foreign_project = other.project(store, "Gemini").await;
    let foreign_task = store
        .create_task(&other.ctx, task(foreign_project.id, "theirs"))
        .await
        .expect("task");

    let send = async |new: NewMessage| store.send_message(&acme.ctx, new).await;
    assert_reference(
        send(message(acme.owner.id, AgentId::new(), "hello")).await,
        "recipient",
    );
    assert_reference(
        send(message(acme.owner.id, foreign_agent.id, "hello")).await,
        "recipient",
    );
    assert_reference(
        send(message(coder.id, other.owner.id, "hello")).await,
        "recipient",
    );
    assert_reference(
        send(message(UserId::new(), coder.id, "hello")).await,
        "sender",
    );
    assert_reference(
        send(message(foreign_agent.id, coder.id, "hello")).await,
        "sender",
    );
    assert_reference(
        send(message(acme.owner.id, coder.id, "hello").with_task(Some(foreign_task.id))).await,
        "task_id",
    );
    assert_reference(
        send(message(coder.id, acme.owner.id, "hello").with_task(Some(TaskId::new()))).await,
        "task_id",
    );

    // Nothing was written: no message, no audit row, and the refused agent sends counted
    // nothing (their increment rolled back with them).
    assert!(
        listed(store, &acme.ctx, MessageFilter::default())
            .await
            .is_empty()
    );
    assert!(audit_of(store, &acme.ctx, "message").await.is_empty());
    let coder = store.get_agent(&acme.ctx, coder.id).await.expect("agent");
    assert_eq!(coder.messages_sent, 0);
    let foreign_agent = store
        .get_agent(&other.ctx, foreign_agent.id)
        .await
        .expect("agent");
    assert_eq!(foreign_agent.messages_sent, 0);
}

pub async fn conversations_list_by_thread_task_and_participant<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let planner = agent(store, &acme.ctx, "planner").await;
    let coder = agent(store, &acme.ctx, "coder").await;
    let project = acme.project(store, "Apollo").await;
    let work = store
        .create_task(&acme.ctx, task(project.id, "build"))
        .await
        .expect("task");
    let thread = ThreadId::new();
    let owner = acme.owner.id;

    let mut ids = Vec::new();
    for new in [
        message(owner, planner.id, "plan it").with_thread(Some(thread)),
        message(planner.id, coder.id, "build it")
            .with_thread(Some(thread))
            .with_task(Some(work.id)),
        message(coder.id, planner.id, "built").with_task(Some(work.id)),
        message(planner.id, owner, "all done"),
    ] {
        ids.push(store.send_message(&acme.ctx, new).await.expect("send").id);
    }
    store
        .mark_read(&acme.ctx, MarkRead::Messages(MessageIds::one(ids[1])))
        .await
        .expect("mark read");

    let find = async |filter: MessageFilter| listed(store, &acme.ctx, filter).await;
    assert_eq!(find(MessageFilter::default()).await, ids);
    let in_thread = MessageFilter {
        thread_id: Some(thread),
        ..MessageFilter::default()
    };
    assert_eq!(find(in_thread.clone()).await, vec![ids[0], ids[1]]);
    let about_task = MessageFilter {
        task_id: Some(work.id),
        ..MessageFilter::default()
    };
    assert_eq!(find(about_task).await, vec![ids[1], ids[2]]);
    let with_coder = MessageFilter {
        participant: Some(coder.id.into()),
        ..MessageFilter::default()
    };
    assert_eq!(find(with_coder).await, vec![ids[1], ids[2]]);
    let with_owner = MessageFilter {
        participant: Some(owner.into()),
        ..MessageFilter::default()
    };
    assert_eq!(find(with_owner).await, vec![ids[0], ids[3]]);
    let to_planner = MessageFilter {
        recipient: Some(planner.id.into()),
        ..MessageFilter::default()
    };
    assert_eq!(find(to_planner).await, vec![ids[0], ids[2]]);
    let unread_in_thread = MessageFilter {
        unread_only: true,
        ..in_thread
    };
    assert_eq!(find(unread_in_thread).await, vec![ids[0]]);
    let unread_to_coder = MessageFilter {
        recipient: Some(coder.id.into()),
        unread_only: true,
        ..MessageFilter::default()
    };
    assert!(find(unread_to_coder).await.is_empty());
    // The same uuid as another kind is another participant.
    let user_with_the_coders_id = MessageFilter {
        participant: Some(Participant::User(UserId::from_uuid(coder.id.as_uuid()))),
        ..MessageFilter::default()
    };
    assert!(find(user_with_the_coders_id).await.is_empty());

    // Pages in either order, each with its own cursor.
    let two = Limit::parse(2).expect("limit");
    let newest = store
        .list_messages(
            &acme.ctx,
            MessageFilter::default(),
            PageRequest::first(two).sorted(MessageSort::CreatedAtDesc),
        )
        .await
        .expect("page");
    assert_eq!(
        newest.items.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![ids[3], ids[2]]
    );
    let rest = store
        .list_messages(
            &acme.ctx,
            MessageFilter::default(),
            PageRequest::first(two).next(newest.next_cursor),
        )
        .await
        .expect("next page");
    assert_eq!(
        rest.items.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![ids[1], ids[0]]
    );
    assert!(rest.next_cursor.is_none());
}

pub async fn mark_read_is_idempotent_and_unread_counts_follow<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let reviewer = agent(store, &acme.ctx, "reviewer").await;
    let second_user = store
        .create_user(
            &acme.ctx,
            new_user(
                "second@acme.test",
                vec![orchestore_domain::SystemRole::Viewer],
            ),
        )
        .await
        .expect("user");
    let owner = acme.owner.id;
    let thread = ThreadId::new();
    let send = async |new: NewMessage| store.send_message(&acme.ctx, new).await.expect("send");
    let first = send(message(owner, reviewer.id, "one").with_thread(Some(thread))).await;
    let second = send(message(owner, reviewer.id, "two").with_thread(Some(thread))).await;
    let elsewhere = send(message(owner, reviewer.id, "three")).await;
    // Same thread, another recipient: marking the reviewer's thread leaves it alone.
    let to_second = send(message(owner, second_user.id, "four").with_thread(Some(thread))).await;

    let reviewer_end = Participant::Agent(reviewer.id);
    let unread = async |who: Participant| store.unread_count(&acme.ctx, who).await.expect("count");
    assert_eq!(unread(reviewer_end).await, 3);
    assert_eq!(unread(second_user.id.into()).await, 1);
    assert_eq!(unread(owner.into()).await, 0);
    assert_reference(
        store.unread_count(&acme.ctx, AgentId::new().into()).await,
        "recipient",
    );
    assert_reference(
        store.unread_count(&other.ctx, reviewer_end).await,
        "recipient",
    );

    // By ids: an unknown id or another organization's refuses the whole call.
    let ids = |list: &[MessageId]| MessageIds::parse(list.iter().copied()).expect("ids");
    assert_not_found(
        store
            .mark_read(
                &acme.ctx,
                MarkRead::Messages(ids(&[first.id, MessageId::new()])),
            )
            .await,
        "message",
    );
    assert_not_found(
        store
            .mark_read(&other.ctx, MarkRead::Messages(ids(&[first.id])))
            .await,
        "message",
    );
    assert_eq!(unread(reviewer_end).await, 3);

    let marked = store
        .mark_read(&acme.ctx, MarkRead::Messages(ids(&[first.id])))
        .await
        .expect("mark");
    assert_eq!(marked, 1);
    let read_at = store
        .get_message(&acme.ctx, first.id)
        .await
        .expect("get")
        .read_at
        .expect("read");

    // Again, and by thread: the read one keeps its first read_at and is not counted.
    let again = store
        .mark_read(&acme.ctx, MarkRead::Messages(ids(&[first.id])))
        .await
        .expect("mark again");
    assert_eq!(again, 0);
    let by_thread = MarkRead::Thread {
        recipient: reviewer_end,
        thread_id: thread,
    };
    assert_eq!(
        store
            .mark_read(&acme.ctx, by_thread.clone())
            .await
            .expect("thread"),
        1
    );
    assert_eq!(
        store.mark_read(&acme.ctx, by_thread).await.expect("again"),
        0
    );
    let first_again = store.get_message(&acme.ctx, first.id).await.expect("get");
    assert_eq!(first_again.read_at, Some(read_at));
    assert!(
        store
            .get_message(&acme.ctx, second.id)
            .await
            .expect("get")
            .is_read()
    );
    assert!(
        !store
            .get_message(&acme.ctx, elsewhere.id)
            .await
            .expect("get")
            .is_read()
    );
    assert!(
        !store
            .get_message(&acme.ctx, to_second.id)
            .await
            .expect("get")
            .is_read()
    );
    assert_eq!(unread(reviewer_end).await, 1);
    assert_eq!(unread(second_user.id.into()).await, 1);
    assert_reference(
        store
            .mark_read(
                &acme.ctx,
                MarkRead::Thread {
                    recipient: AgentId::new().into(),
                    thread_id: thread,
                },
            )
            .await,
        "recipient",
    );

    // One audit row per call that marked something, listing what it marked.
    let reads: Vec<AuditEntry> = audit_of(store, &acme.ctx, "message")
        .await
        .into_iter()
        .filter(|row| row.action == "message.read")
        .collect();
    assert_eq!(reads.len(), 2);
    assert_eq!(reads[0].entity_id, second.id.to_string());
    assert_eq!(reads[0].changes["marked"], json!([second.id]));
    assert_eq!(reads[0].changes["marked_count"], json!(1));
    assert_eq!(reads[0].changes["thread_id"], json!(thread));
    assert_eq!(
        reads[0].changes["recipient"],
        json!({"kind": "agent", "id": reviewer.id})
    );
    assert_eq!(reads[1].changes["marked"], json!([first.id]));
}

pub async fn deleting_an_agent_or_a_task_deletes_its_messages<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let leaving = agent(store, &acme.ctx, "leaving").await;
    let staying = agent(store, &acme.ctx, "staying").await;
    let owner = acme.owner.id;
    let project = acme.project(store, "Apollo").await;
    let doomed_task = store
        .create_task(&acme.ctx, task(project.id, "doomed"))
        .await
        .expect("task");
    let send = async |new: NewMessage| store.send_message(&acme.ctx, new).await.expect("send");
    let from_leaving = send(message(leaving.id, staying.id, "bye")).await;
    let to_leaving = send(message(owner, leaving.id, "why?")).await;
    let about_task =
        send(message(owner, staying.id, "do it").with_task(Some(doomed_task.id))).await;
    let kept = send(message(staying.id, owner, "still here")).await;

    store
        .delete_agent(&acme.ctx, leaving.id, None)
        .await
        .expect("delete agent");
    assert_not_found(
        store.get_message(&acme.ctx, from_leaving.id).await,
        "message",
    );
    assert_not_found(store.get_message(&acme.ctx, to_leaving.id).await, "message");
    let deletion = &audit_of(store, &acme.ctx, "agent").await[0];
    assert_eq!(deletion.action, "agent.delete");
    assert_eq!(deletion.changes["deleted_message_count"], json!(2));

    store
        .delete_task(&acme.ctx, doomed_task.id, None)
        .await
        .expect("delete task");
    assert_not_found(store.get_message(&acme.ctx, about_task.id).await, "message");
    let deletion = &audit_of(store, &acme.ctx, "task").await[0];
    assert_eq!(deletion.action, "task.delete");
    assert_eq!(deletion.changes["deleted_message_count"], json!(1));

    // A project takes its tasks' messages along.
    let second_task = store
        .create_task(&acme.ctx, task(project.id, "also doomed"))
        .await
        .expect("task");
    let about_second =
        send(message(owner, staying.id, "and this").with_task(Some(second_task.id))).await;
    store
        .delete_project(&acme.ctx, project.id, None)
        .await
        .expect("delete project");
    assert_not_found(
        store.get_message(&acme.ctx, about_second.id).await,
        "message",
    );
    let deletion = &audit_of(store, &acme.ctx, "project").await[0];
    assert_eq!(deletion.changes["deleted_message_count"], json!(1));

    assert_eq!(
        listed(store, &acme.ctx, MessageFilter::default()).await,
        vec![kept.id]
    );
    // The counter of the remaining sender is its own; others' deletions do not lower it.
    let staying = store.get_agent(&acme.ctx, staying.id).await.expect("agent");
    assert_eq!(staying.messages_sent, 1);
}
