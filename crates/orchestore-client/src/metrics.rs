//! `/api/v1/metrics`: samples recorded one at a time or by the batch, and read back in
//! buckets.

use orchestore_api::metrics::{
    MetricQueryParams, MetricSeries, Recorded, SampleBatchBody, SampleBody,
};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /metrics` with one sample.
    pub async fn record_metric(&self, body: &SampleBody) -> Result<Recorded> {
        self.call(Method::POST, "/metrics").json(body).send().await
    }

    /// `POST /metrics` with a batch (up to 10,000), written all or none.
    pub async fn record_metrics(&self, body: &SampleBatchBody) -> Result<Recorded> {
        self.call(Method::POST, "/metrics").json(body).send().await
    }

    /// `GET /metrics/query`: one metric of one component in time buckets, oldest first.
    pub async fn query_metrics(&self, params: &MetricQueryParams) -> Result<MetricSeries> {
        self.call(Method::GET, "/metrics/query")
            .query(params)
            .send()
            .await
    }
}
