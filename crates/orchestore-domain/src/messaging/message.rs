use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{DomainError, MessageId, Metadata, OrganizationId, Participant, TaskId, ThreadId};

/// A message body: 1 to 100,000 characters, not only whitespace, no U+0000 (which PostgreSQL
/// cannot store). Kept as written: line breaks and surrounding spaces may matter to an agent.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct MessageContent(String);

impl MessageContent {
    pub const MAX_CHARS: usize = 100_000;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if raw.trim().is_empty() {
            return Err(DomainError::invalid("content", "must not be empty"));
        }
        if raw.contains('\0') {
            return Err(DomainError::invalid(
                "content",
                "must not contain the NUL character (U+0000)",
            ));
        }
        let chars = raw.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "content",
                format!(
                    "must be at most {} characters, got {chars}",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for MessageContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for MessageContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl AsRef<str> for MessageContent {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

deserialize_by_parse!(MessageContent, String, |raw| MessageContent::parse(&raw));

/// A message as stored. Messages are not edited; only `read_at` changes, once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Message {
    pub id: MessageId,
    pub organization_id: OrganizationId,
    pub sender: Participant,
    pub recipient: Participant,
    pub task_id: Option<TaskId>,
    pub thread_id: Option<ThreadId>,
    pub content: MessageContent,
    pub metadata: Metadata,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Message {
    pub fn is_read(&self) -> bool {
        self.read_at.is_some()
    }
}

/// A message to send. Sender and recipient differ: a note to oneself has no reader to notify
/// and would only inflate `messages_sent`, so it is refused (field `recipient`). The fields are
/// private to keep that true; build one with [`NewMessage::new`] and the `with_*` methods.
#[derive(Debug, Clone)]
pub struct NewMessage {
    sender: Participant,
    recipient: Participant,
    task_id: Option<TaskId>,
    thread_id: Option<ThreadId>,
    content: MessageContent,
    metadata: Metadata,
}

impl NewMessage {
    pub fn new(
        sender: Participant,
        recipient: Participant,
        content: MessageContent,
    ) -> Result<Self, DomainError> {
        if sender == recipient {
            return Err(DomainError::invalid(
                "recipient",
                "must differ from the sender",
            ));
        }
        Ok(Self {
            sender,
            recipient,
            task_id: None,
            thread_id: None,
            content,
            metadata: Metadata::default(),
        })
    }

    /// Links the message to a task.
    pub fn with_task(mut self, task_id: Option<TaskId>) -> Self {
        self.task_id = task_id;
        self
    }

    /// Places the message in a thread.
    pub fn with_thread(mut self, thread_id: Option<ThreadId>) -> Self {
        self.thread_id = thread_id;
        self
    }

    pub fn with_metadata(mut self, metadata: Metadata) -> Self {
        self.metadata = metadata;
        self
    }

    pub fn sender(&self) -> Participant {
        self.sender
    }

    pub fn recipient(&self) -> Participant {
        self.recipient
    }

    pub fn task_id(&self) -> Option<TaskId> {
        self.task_id
    }

    pub fn thread_id(&self) -> Option<ThreadId> {
        self.thread_id
    }

    pub fn content(&self) -> &MessageContent {
        &self.content
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }
}

/// The messages one call marks read: 1 to [`MessageIds::MAX`] ids, each once (duplicates are
/// dropped), in id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageIds(Vec<MessageId>);

impl MessageIds {
    pub const MAX: usize = 200;

    pub fn parse(ids: impl IntoIterator<Item = MessageId>) -> Result<Self, DomainError> {
        let mut ids: Vec<MessageId> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Err(DomainError::invalid(
                "ids",
                "must name at least one message",
            ));
        }
        if ids.len() > Self::MAX {
            return Err(DomainError::invalid(
                "ids",
                format!(
                    "must name at most {} messages, got {}",
                    Self::MAX,
                    ids.len()
                ),
            ));
        }
        Ok(Self(ids))
    }

    pub fn one(id: MessageId) -> Self {
        Self(vec![id])
    }

    pub fn as_slice(&self) -> &[MessageId] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgentId, UserId};

    fn content(text: &str) -> MessageContent {
        MessageContent::parse(text).unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn content_is_bounded_and_kept_as_written() {
        assert_eq!(content("  hi\n").as_str(), "  hi\n");
        assert!(MessageContent::parse(&"é".repeat(100_000)).is_ok());
        let too_long = MessageContent::parse(&"é".repeat(100_001)).unwrap_err();
        assert_eq!(too_long.field(), Some("content"));
        assert!(MessageContent::parse(" \n ").is_err());
        assert!(MessageContent::parse("a\0b").is_err());
        assert!(serde_json::from_str::<MessageContent>("\"\"").is_err());
    }

    #[test]
    fn a_message_to_oneself_is_refused() {
        let agent = Participant::Agent(AgentId::new());
        let error = NewMessage::new(agent, agent, content("hello")).unwrap_err();
        assert_eq!(error.field(), Some("recipient"));

        let user = Participant::User(UserId::new());
        let thread = ThreadId::new();
        let task = TaskId::new();
        let message = NewMessage::new(user, agent, content("please review"))
            .map(|m| m.with_thread(Some(thread)).with_task(Some(task)));
        let message = message.unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(message.sender(), user);
        assert_eq!(message.recipient(), agent);
        assert_eq!(message.thread_id(), Some(thread));
        assert_eq!(message.task_id(), Some(task));
        assert_eq!(message.content().as_str(), "please review");
        assert_eq!(message.metadata(), &Metadata::default());
    }

    #[test]
    fn message_ids_are_bounded_and_deduplicated() {
        let (a, b) = (MessageId::new(), MessageId::new());
        let ids = MessageIds::parse([b, a, b]).unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(ids.as_slice(), &[a, b]);
        assert_eq!(MessageIds::one(a).as_slice(), &[a]);
        assert_eq!(MessageIds::parse([]).unwrap_err().field(), Some("ids"));
        let too_many = (0..=MessageIds::MAX).map(|_| MessageId::new());
        assert_eq!(
            MessageIds::parse(too_many).unwrap_err().field(),
            Some("ids")
        );
        // Duplicates do not count against the bound.
        assert!(MessageIds::parse(std::iter::repeat_n(a, MessageIds::MAX + 1)).is_ok());
    }

    #[test]
    fn serialises_participants_with_their_kind() {
        let sender = AgentId::new();
        let recipient = UserId::new();
        let message = Message {
            id: MessageId::new(),
            organization_id: OrganizationId::new(),
            sender: sender.into(),
            recipient: recipient.into(),
            task_id: None,
            thread_id: None,
            content: content("done"),
            metadata: Metadata::default(),
            read_at: None,
            created_at: Utc::now(),
        };
        assert!(!message.is_read());
        let value = serde_json::to_value(&message).unwrap_or_default();
        assert_eq!(value["sender"]["kind"], "agent");
        assert_eq!(value["sender"]["id"], sender.to_string());
        assert_eq!(value["recipient"]["kind"], "user");
        assert_eq!(value["content"], "done");
    }
}
