//! `/api/v1/schedules`: cron schedules that enqueue a task or start a workflow execution.

use futures_util::Stream;
use orchestore_api::schedules::{
    CreateScheduleBody, ListSchedulesQuery, NextQuery, PatchScheduleBody, UpcomingOccurrences,
};
use orchestore_domain::{Revision, Schedule, ScheduleId};
use orchestore_repo::{Page, ScheduleSort};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /schedules`: the schedule, with its `next_run_at`.
    pub async fn create_schedule(&self, body: &CreateScheduleBody) -> Result<Schedule> {
        self.call(Method::POST, "/schedules")
            .json(body)
            .send()
            .await
    }

    /// `GET /schedules`: one page.
    pub async fn list_schedules(
        &self,
        query: &ListSchedulesQuery,
    ) -> Result<Page<Schedule, ScheduleSort>> {
        self.call(Method::GET, "/schedules")
            .query(query)
            .send()
            .await
    }

    /// `GET /schedules`: every schedule from the page `query` names on.
    pub fn list_schedules_stream(
        &self,
        query: &ListSchedulesQuery,
    ) -> impl Stream<Item = Result<Schedule>> + Send + 'static {
        self.stream::<Schedule, ScheduleSort>("/schedules".to_owned(), query)
    }

    /// `GET /schedules/{id}`.
    pub async fn get_schedule(&self, id: ScheduleId) -> Result<Schedule> {
        self.call(Method::GET, format!("/schedules/{id}"))
            .send()
            .await
    }

    /// `PATCH /schedules/{id}`; with `if_match`, only when it is still at that revision.
    pub async fn update_schedule(
        &self,
        id: ScheduleId,
        body: &PatchScheduleBody,
        if_match: Option<Revision>,
    ) -> Result<Schedule> {
        self.call(Method::PATCH, format!("/schedules/{id}"))
            .if_match(if_match)
            .json(body)
            .send()
            .await
    }

    /// `DELETE /schedules/{id}`.
    pub async fn delete_schedule(&self, id: ScheduleId, if_match: Option<Revision>) -> Result<()> {
        self.call(Method::DELETE, format!("/schedules/{id}"))
            .if_match(if_match)
            .send_empty()
            .await
    }

    /// `POST /schedules/{id}/pause`: the schedule, without a `next_run_at`.
    pub async fn pause_schedule(&self, id: ScheduleId) -> Result<Schedule> {
        self.call(Method::POST, format!("/schedules/{id}/pause"))
            .send()
            .await
    }

    /// `POST /schedules/{id}/resume`: the schedule, due at its first occurrence after now.
    pub async fn resume_schedule(&self, id: ScheduleId) -> Result<Schedule> {
        self.call(Method::POST, format!("/schedules/{id}/resume"))
            .send()
            .await
    }

    /// `GET /schedules/{id}/next`: the schedule's next occurrences after now.
    pub async fn next_occurrences(
        &self,
        id: ScheduleId,
        query: &NextQuery,
    ) -> Result<UpcomingOccurrences> {
        self.call(Method::GET, format!("/schedules/{id}/next"))
            .query(query)
            .send()
            .await
    }
}
