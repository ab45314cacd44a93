//! `/api/v1/messages`.

use orchestore_domain::{
    DomainError, MessageContent, MessageId, MessageIds, Metadata, NewMessage, Participant,
    ParticipantKind, TaskId, ThreadId,
};
use orchestore_repo::{MarkRead, MessageFilter, MessageSort, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{FieldErrors, Invalid, ParticipantBody, page_request, participant_param};

/// A user token sends as its user or as an agent of the organization; an agent's API key as
/// its agent only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageBody {
    /// The caller when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<ParticipantBody>,
    pub recipient: ParticipantBody,
    pub content: String,
    /// The task the message is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    /// The conversation the message belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

impl SendMessageBody {
    /// A message of `content` to `recipient`, sent as the caller, every other field left out.
    pub fn new(recipient: Participant, content: impl Into<String>) -> Self {
        Self {
            sender: None,
            recipient: recipient.into(),
            content: content.into(),
            task_id: None,
            thread_id: None,
            metadata: None,
        }
    }

    /// The message; the sender is `caller` when the body names none. Whether the caller may
    /// send as the sender is the server's to decide.
    pub fn into_new_message(self, caller: Participant) -> Result<NewMessage, Invalid> {
        let mut errors = FieldErrors::default();
        let sender = errors.check(self.sender.map_or(Ok(caller), |s| s.parse("sender.kind")));
        let recipient = errors.check(self.recipient.parse("recipient.kind"));
        let content = errors.check(MessageContent::parse(&self.content));
        let metadata = errors.check(
            self.metadata
                .map_or(Ok(Metadata::default()), |m| Metadata::parse("metadata", m)),
        );
        let (Some(sender), Some(recipient), Some(content), Some(metadata)) =
            (sender, recipient, content, metadata)
        else {
            return Err(errors.into_error());
        };
        Ok(NewMessage::new(sender, recipient, content)?
            .with_task(self.task_id)
            .with_thread(self.thread_id)
            .with_metadata(metadata))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListMessagesQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    /// Messages this participant sent or received (with `participant_id`).
    #[param(value_type = Option<ParticipantKind>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_kind: Option<String>,
    /// With `participant_kind`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant_id: Option<Uuid>,
    /// Messages to this participant (with `recipient_id`).
    #[param(value_type = Option<ParticipantKind>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_kind: Option<String>,
    /// With `recipient_kind`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<Uuid>,
    /// `true`: only messages not read yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<bool>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<MessageSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListMessagesQuery {
    pub fn into_filter_and_page(
        self,
    ) -> Result<(MessageFilter, PageRequest<MessageSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let participant = errors.check(participant_param(
            "participant_kind",
            "participant_id",
            self.participant_kind,
            self.participant_id,
        ));
        let recipient = errors.check(participant_param(
            "recipient_kind",
            "recipient_id",
            self.recipient_kind,
            self.recipient_id,
        ));
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(participant), Some(recipient), Some(page)) = (participant, recipient, page)
        else {
            return Err(errors.into_error());
        };
        Ok((
            MessageFilter {
                thread_id: self.thread_id,
                task_id: self.task_id,
                participant,
                recipient,
                unread_only: self.unread.unwrap_or(false),
            },
            page,
        ))
    }
}

/// Either `{ids}` or `{recipient, thread_id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkReadBody {
    /// These messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<MessageId>>,
    /// The messages of `thread_id` to this participant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<ParticipantBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
}

impl MarkReadBody {
    pub fn into_mark_read(self) -> Result<MarkRead, Invalid> {
        let mut errors = FieldErrors::default();
        let which = match (self.ids, self.recipient, self.thread_id) {
            (Some(ids), None, None) => errors.check(MessageIds::parse(ids).map(MarkRead::Messages)),
            (None, Some(recipient), Some(thread_id)) => errors.check(
                recipient
                    .parse("recipient.kind")
                    .map(|recipient| MarkRead::Thread {
                        recipient,
                        thread_id,
                    }),
            ),
            (None, Some(_), None) => errors.check(Err(DomainError::invalid(
                "thread_id",
                "must be given with recipient",
            ))),
            (None, None, Some(_)) => errors.check(Err(DomainError::invalid(
                "recipient",
                "must be given with thread_id",
            ))),
            (None, None, None) | (Some(_), _, _) => errors.check(Err(DomainError::invalid(
                "ids",
                "give either ids, or recipient and thread_id",
            ))),
        };
        which.ok_or_else(|| errors.into_error())
    }
}

/// The recipient, both or neither; the caller when left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UnreadCountQuery {
    #[param(value_type = Option<ParticipantKind>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_id: Option<Uuid>,
}

impl UnreadCountQuery {
    /// The recipient the query names, if any.
    pub fn into_recipient(self) -> Result<Option<Participant>, Invalid> {
        participant_param(
            "recipient_kind",
            "recipient_id",
            self.recipient_kind,
            self.recipient_id,
        )
        .map_err(Invalid::from)
    }
}

/// How many messages a call marked read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Marked {
    /// Those not read before; a message read already keeps its first `read_at`.
    pub marked: u64,
}

/// How many messages to a participant are unread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UnreadCount {
    pub recipient: Participant,
    pub unread: u64,
}
