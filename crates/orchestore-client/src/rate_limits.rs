//! `/api/v1/rate-limits`: named token buckets that tasks consume.

use futures_util::Stream;
use orchestore_api::rate_limits::{CreateRateLimitBody, ListRateLimitsQuery, PatchRateLimitBody};
use orchestore_domain::{RateLimit, RateLimitName, Revision};
use orchestore_repo::{Page, RateLimitSort};
use reqwest::Method;

use crate::transport::segment;
use crate::{Client, Result};

impl Client {
    /// `POST /rate-limits`: the bucket, full.
    pub async fn create_rate_limit(&self, body: &CreateRateLimitBody) -> Result<RateLimit> {
        self.call(Method::POST, "/rate-limits")
            .json(body)
            .send()
            .await
    }

    /// `GET /rate-limits`: one page.
    pub async fn list_rate_limits(
        &self,
        query: &ListRateLimitsQuery,
    ) -> Result<Page<RateLimit, RateLimitSort>> {
        self.call(Method::GET, "/rate-limits")
            .query(query)
            .send()
            .await
    }

    /// `GET /rate-limits`: every bucket from the page `query` names on.
    pub fn list_rate_limits_stream(
        &self,
        query: &ListRateLimitsQuery,
    ) -> impl Stream<Item = Result<RateLimit>> + Send + 'static {
        self.stream::<RateLimit, RateLimitSort>("/rate-limits".to_owned(), query)
    }

    /// `GET /rate-limits/{name}`: the bucket with its balance now.
    pub async fn get_rate_limit(&self, name: &RateLimitName) -> Result<RateLimit> {
        self.call(
            Method::GET,
            format!("/rate-limits/{}", segment(name.as_str())),
        )
        .send()
        .await
    }

    /// `PATCH /rate-limits/{name}`; with `if_match`, only when it is still at that revision.
    pub async fn update_rate_limit(
        &self,
        name: &RateLimitName,
        body: &PatchRateLimitBody,
        if_match: Option<Revision>,
    ) -> Result<RateLimit> {
        self.call(
            Method::PATCH,
            format!("/rate-limits/{}", segment(name.as_str())),
        )
        .if_match(if_match)
        .json(body)
        .send()
        .await
    }

    /// `DELETE /rate-limits/{name}`.
    pub async fn delete_rate_limit(
        &self,
        name: &RateLimitName,
        if_match: Option<Revision>,
    ) -> Result<()> {
        self.call(
            Method::DELETE,
            format!("/rate-limits/{}", segment(name.as_str())),
        )
        .if_match(if_match)
        .send_empty()
        .await
    }
}
