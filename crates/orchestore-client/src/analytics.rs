//! `/api/v1/analytics/…`: reports over a window of at most 92 days (30 by default).

use orchestore_api::analytics::WindowQuery;
use orchestore_domain::{
    AnalyticsReport, TaskKindAnalytics, TemplateAnalytics, WorkflowAnalytics, WorkflowDaily,
    WorkflowId,
};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `GET /analytics/workflows`: one item per workflow that ran in the window.
    pub async fn workflow_analytics(
        &self,
        window: &WindowQuery,
    ) -> Result<AnalyticsReport<WorkflowAnalytics>> {
        self.call(Method::GET, "/analytics/workflows")
            .query(window)
            .send()
            .await
    }

    /// `GET /analytics/workflows/{id}/daily`: every day of the window.
    pub async fn workflow_daily(
        &self,
        id: WorkflowId,
        window: &WindowQuery,
    ) -> Result<WorkflowDaily> {
        self.call(Method::GET, format!("/analytics/workflows/{id}/daily"))
            .query(window)
            .send()
            .await
    }

    /// `GET /analytics/task-kinds`: one item per kind of task that ended in the window.
    pub async fn task_kind_analytics(
        &self,
        window: &WindowQuery,
    ) -> Result<AnalyticsReport<TaskKindAnalytics>> {
        self.call(Method::GET, "/analytics/task-kinds")
            .query(window)
            .send()
            .await
    }

    /// `GET /analytics/templates`: one item per template used in the window.
    pub async fn template_analytics(
        &self,
        window: &WindowQuery,
    ) -> Result<AnalyticsReport<TemplateAnalytics>> {
        self.call(Method::GET, "/analytics/templates")
            .query(window)
            .send()
            .await
    }
}
