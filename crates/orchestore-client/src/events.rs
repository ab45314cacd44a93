//! `/api/v1/events`: events recorded one at a time or by the batch, listed newest first.

use futures_util::Stream;
use orchestore_api::events::{EventBatchBody, EventBody, ListEventsQuery, RecordedEvents};
use orchestore_domain::{Event, EventId};
use orchestore_repo::{EventSort, Page};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /events` with one event: the event, recorded.
    pub async fn record_event(&self, body: &EventBody) -> Result<Event> {
        self.call(Method::POST, "/events").json(body).send().await
    }

    /// `POST /events` with a batch (up to 10,000): their ids, recorded all or none.
    pub async fn record_events(&self, body: &EventBatchBody) -> Result<RecordedEvents> {
        self.call(Method::POST, "/events").json(body).send().await
    }

    /// `GET /events`: one page.
    pub async fn list_events(&self, query: &ListEventsQuery) -> Result<Page<Event, EventSort>> {
        self.call(Method::GET, "/events").query(query).send().await
    }

    /// `GET /events`: every event from the page `query` names on.
    pub fn list_events_stream(
        &self,
        query: &ListEventsQuery,
    ) -> impl Stream<Item = Result<Event>> + Send + 'static {
        self.stream::<Event, EventSort>("/events".to_owned(), query)
    }

    /// `GET /events/{id}`.
    pub async fn get_event(&self, id: EventId) -> Result<Event> {
        self.call(Method::GET, format!("/events/{id}")).send().await
    }
}
