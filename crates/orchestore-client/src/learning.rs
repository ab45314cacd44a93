//! `/api/v1/learning-records`.

use futures_util::Stream;
use orchestore_api::learning::{CreateRecordBody, ListRecordsQuery};
use orchestore_domain::{LearningRecord, LearningRecordId};
use orchestore_repo::{LearningSort, Page};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /learning-records`: records a learning.
    pub async fn create_learning_record(&self, body: &CreateRecordBody) -> Result<LearningRecord> {
        self.call(Method::POST, "/learning-records")
            .json(body)
            .send()
            .await
    }

    /// `GET /learning-records`: one page.
    pub async fn list_learning_records(
        &self,
        query: &ListRecordsQuery,
    ) -> Result<Page<LearningRecord, LearningSort>> {
        self.call(Method::GET, "/learning-records")
            .query(query)
            .send()
            .await
    }

    /// `GET /learning-records`: every record from the page `query` names on.
    pub fn list_learning_records_stream(
        &self,
        query: &ListRecordsQuery,
    ) -> impl Stream<Item = Result<LearningRecord>> + Send + 'static {
        self.stream::<LearningRecord, LearningSort>("/learning-records".to_owned(), query)
    }

    /// `GET /learning-records/{id}`.
    pub async fn get_learning_record(&self, id: LearningRecordId) -> Result<LearningRecord> {
        self.call(Method::GET, format!("/learning-records/{id}"))
            .send()
            .await
    }
}
