//! `/api/v1/alerts`: raised (and counted while unresolved), listed, acknowledged, resolved.

use futures_util::Stream;
use orchestore_api::alerts::{ListAlertsQuery, RaiseAlertBody};
use orchestore_domain::{Alert, AlertId};
use orchestore_repo::{AlertSort, Page};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /alerts`: a new alert, or the unresolved one of the same fingerprint with this
    /// raise counted.
    pub async fn raise_alert(&self, body: &RaiseAlertBody) -> Result<Alert> {
        self.call(Method::POST, "/alerts").json(body).send().await
    }

    /// `GET /alerts`: one page, newest first unless `sort` says otherwise.
    pub async fn list_alerts(&self, query: &ListAlertsQuery) -> Result<Page<Alert, AlertSort>> {
        self.call(Method::GET, "/alerts").query(query).send().await
    }

    /// `GET /alerts`: every alert from the page `query` names on.
    pub fn list_alerts_stream(
        &self,
        query: &ListAlertsQuery,
    ) -> impl Stream<Item = Result<Alert>> + Send + 'static {
        self.stream::<Alert, AlertSort>("/alerts".to_owned(), query)
    }

    /// `GET /alerts/{id}`.
    pub async fn get_alert(&self, id: AlertId) -> Result<Alert> {
        self.call(Method::GET, format!("/alerts/{id}")).send().await
    }

    /// `POST /alerts/{id}/acknowledge`: an open alert, acknowledged by the caller.
    pub async fn acknowledge_alert(&self, id: AlertId) -> Result<Alert> {
        self.call(Method::POST, format!("/alerts/{id}/acknowledge"))
            .send()
            .await
    }

    /// `POST /alerts/{id}/resolve`: an open or acknowledged alert, resolved by the caller.
    pub async fn resolve_alert(&self, id: AlertId) -> Result<Alert> {
        self.call(Method::POST, format!("/alerts/{id}/resolve"))
            .send()
            .await
    }
}
