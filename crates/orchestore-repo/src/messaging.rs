//! Messages between agents and users.

use orchestore_domain::{
    Message, MessageId, MessageIds, NewMessage, Participant, TaskId, ThreadId,
};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the message list.
    pub enum MessageSort for "messages" {
        /// Oldest first: a conversation as it was written.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

/// Which messages a list returns; `None` (or `false`) matches any. A conversation is the
/// messages of one thread or of one task.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub thread_id: Option<ThreadId>,
    pub task_id: Option<TaskId>,
    /// Messages this participant sent or received.
    pub participant: Option<Participant>,
    /// Messages to this participant.
    pub recipient: Option<Participant>,
    /// Only messages not read yet.
    pub unread_only: bool,
}

/// Which messages [`MessageRepo::mark_read`] marks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkRead {
    /// These messages; each must be a message of the organization.
    Messages(MessageIds),
    /// Every unread message to `recipient` in the thread.
    Thread {
        recipient: Participant,
        thread_id: ThreadId,
    },
}

/// Messages of the context's organization.
///
/// A message goes with either of its ends and with its task: deleting an agent, a user or a
/// task deletes the messages it sent or received or that were about it (the deletion's audit
/// row counts them as `deleted_message_count`).
#[async_trait::async_trait]
pub trait MessageRepo: Send + Sync {
    /// Sends a message. The sender, the recipient and the task must exist in the organization:
    /// otherwise a `Reference` error on `sender`, `recipient` or `task_id`. An agent sender's
    /// `messages_sent` grows by one in the same transaction.
    async fn send_message(&self, ctx: &Ctx, new: NewMessage) -> RepoResult<Message>;
    async fn get_message(&self, ctx: &Ctx, id: MessageId) -> RepoResult<Message>;
    async fn list_messages(
        &self,
        ctx: &Ctx,
        filter: MessageFilter,
        page: PageRequest<MessageSort>,
    ) -> RepoResult<Page<Message, MessageSort>>;
    /// Marks messages read now and returns how many it marked. A message already read keeps
    /// its first `read_at` and is not counted, so marking again is harmless. Every id of
    /// [`MarkRead::Messages`] must be a message of the organization (else `NotFound`, and
    /// nothing is marked); the recipient of [`MarkRead::Thread`] must exist (else a
    /// `Reference` error on `recipient`). One audit row, `message.read`, lists the messages
    /// marked; a call that marks none writes nothing.
    async fn mark_read(&self, ctx: &Ctx, which: MarkRead) -> RepoResult<u64>;
    /// How many messages to `recipient` are unread; a `Reference` error on `recipient` when
    /// it does not exist.
    async fn unread_count(&self, ctx: &Ctx, recipient: Participant) -> RepoResult<u64>;
}
