//! `/api/v1/messages`.

use futures_util::Stream;
use orchestore_api::messages::{
    ListMessagesQuery, MarkReadBody, Marked, SendMessageBody, UnreadCount, UnreadCountQuery,
};
use orchestore_domain::{Message, MessageId};
use orchestore_repo::{MessageSort, Page};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /messages`: sends a message, as the caller unless the body names the sender.
    pub async fn send_message(&self, body: &SendMessageBody) -> Result<Message> {
        self.call(Method::POST, "/messages").json(body).send().await
    }

    /// `GET /messages`: one page.
    pub async fn list_messages(
        &self,
        query: &ListMessagesQuery,
    ) -> Result<Page<Message, MessageSort>> {
        self.call(Method::GET, "/messages")
            .query(query)
            .send()
            .await
    }

    /// `GET /messages`: every message from the page `query` names on.
    pub fn list_messages_stream(
        &self,
        query: &ListMessagesQuery,
    ) -> impl Stream<Item = Result<Message>> + Send + 'static {
        self.stream::<Message, MessageSort>("/messages".to_owned(), query)
    }

    /// `GET /messages/{id}`.
    pub async fn get_message(&self, id: MessageId) -> Result<Message> {
        self.call(Method::GET, format!("/messages/{id}"))
            .send()
            .await
    }

    /// `POST /messages/{id}/read`: the message, read (at its first `read_at`).
    pub async fn read_message(&self, id: MessageId) -> Result<Message> {
        self.call(Method::POST, format!("/messages/{id}/read"))
            .send()
            .await
    }

    /// `POST /messages/read`: marks the messages named, or those of a thread to a recipient.
    pub async fn mark_messages_read(&self, body: &MarkReadBody) -> Result<Marked> {
        self.call(Method::POST, "/messages/read")
            .json(body)
            .send()
            .await
    }

    /// `GET /messages/unread-count`: how many messages to the recipient (the caller when the
    /// query names none) are unread.
    pub async fn unread_count(&self, query: &UnreadCountQuery) -> Result<UnreadCount> {
        self.call(Method::GET, "/messages/unread-count")
            .query(query)
            .send()
            .await
    }
}
