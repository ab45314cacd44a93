//! Rewards and penalties: `/api/v1/rewards`, `/api/v1/violations`, `/api/v1/penalties`,
//! `/api/v1/appeals`, `/api/v1/sanctions/…` and each holder's `/sanctions`.

use futures_util::Stream;
use orchestore_api::sanctions::{
    AppealBody, DecisionBody, ListAppealsQuery, ListPenaltiesQuery, ListRewardsQuery,
    ListViolationsQuery, PenaltyBody, RewardBody, ViolationBody,
};
use orchestore_domain::{
    AgentId, Appeal, AppealId, HolderSanctions, Penalty, PenaltyId, Redemption, Reward, RewardId,
    SanctionsSummary, UserId, Violation, ViolationId,
};
use orchestore_repo::{Page, RewardSort, SanctionSort, SweptSanctions};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /rewards`: the reward, allocated.
    pub async fn allocate_reward(&self, body: &RewardBody) -> Result<Reward> {
        self.call(Method::POST, "/rewards").json(body).send().await
    }

    /// `GET /rewards`: one page.
    pub async fn list_rewards(&self, query: &ListRewardsQuery) -> Result<Page<Reward, RewardSort>> {
        self.call(Method::GET, "/rewards").query(query).send().await
    }

    /// `GET /rewards`: every reward from the page `query` names on.
    pub fn list_rewards_stream(
        &self,
        query: &ListRewardsQuery,
    ) -> impl Stream<Item = Result<Reward>> + Send + 'static {
        self.stream::<Reward, RewardSort>("/rewards".to_owned(), query)
    }

    /// `GET /rewards/{id}`.
    pub async fn get_reward(&self, id: RewardId) -> Result<Reward> {
        self.call(Method::GET, format!("/rewards/{id}"))
            .send()
            .await
    }

    /// `POST /rewards/{id}/redeem`: the reward, redeemed, with the ledger entry or the
    /// permission grant it gave (409 the second time).
    pub async fn redeem_reward(&self, id: RewardId) -> Result<Redemption> {
        self.call(Method::POST, format!("/rewards/{id}/redeem"))
            .send()
            .await
    }

    /// `POST /violations`: the violation, recorded.
    pub async fn record_violation(&self, body: &ViolationBody) -> Result<Violation> {
        self.call(Method::POST, "/violations")
            .json(body)
            .send()
            .await
    }

    /// `GET /violations`: one page.
    pub async fn list_violations(
        &self,
        query: &ListViolationsQuery,
    ) -> Result<Page<Violation, SanctionSort>> {
        self.call(Method::GET, "/violations")
            .query(query)
            .send()
            .await
    }

    /// `GET /violations`: every violation from the page `query` names on.
    pub fn list_violations_stream(
        &self,
        query: &ListViolationsQuery,
    ) -> impl Stream<Item = Result<Violation>> + Send + 'static {
        self.stream::<Violation, SanctionSort>("/violations".to_owned(), query)
    }

    /// `GET /violations/{id}`.
    pub async fn get_violation(&self, id: ViolationId) -> Result<Violation> {
        self.call(Method::GET, format!("/violations/{id}"))
            .send()
            .await
    }

    /// `POST /penalties`: the penalty, applied.
    pub async fn apply_penalty(&self, body: &PenaltyBody) -> Result<Penalty> {
        self.call(Method::POST, "/penalties")
            .json(body)
            .send()
            .await
    }

    /// `GET /penalties`: one page.
    pub async fn list_penalties(
        &self,
        query: &ListPenaltiesQuery,
    ) -> Result<Page<Penalty, SanctionSort>> {
        self.call(Method::GET, "/penalties")
            .query(query)
            .send()
            .await
    }

    /// `GET /penalties`: every penalty from the page `query` names on.
    pub fn list_penalties_stream(
        &self,
        query: &ListPenaltiesQuery,
    ) -> impl Stream<Item = Result<Penalty>> + Send + 'static {
        self.stream::<Penalty, SanctionSort>("/penalties".to_owned(), query)
    }

    /// `GET /penalties/{id}`.
    pub async fn get_penalty(&self, id: PenaltyId) -> Result<Penalty> {
        self.call(Method::GET, format!("/penalties/{id}"))
            .send()
            .await
    }

    /// `POST /appeals`: the appeal, open (by the penalty's holder).
    pub async fn file_appeal(&self, body: &AppealBody) -> Result<Appeal> {
        self.call(Method::POST, "/appeals").json(body).send().await
    }

    /// `GET /appeals`: one page.
    pub async fn list_appeals(
        &self,
        query: &ListAppealsQuery,
    ) -> Result<Page<Appeal, SanctionSort>> {
        self.call(Method::GET, "/appeals").query(query).send().await
    }

    /// `GET /appeals`: every appeal from the page `query` names on.
    pub fn list_appeals_stream(
        &self,
        query: &ListAppealsQuery,
    ) -> impl Stream<Item = Result<Appeal>> + Send + 'static {
        self.stream::<Appeal, SanctionSort>("/appeals".to_owned(), query)
    }

    /// `GET /appeals/{id}`.
    pub async fn get_appeal(&self, id: AppealId) -> Result<Appeal> {
        self.call(Method::GET, format!("/appeals/{id}"))
            .send()
            .await
    }

    /// `POST /appeals/{id}/decision`: the appeal, decided (409 when it was already).
    pub async fn decide_appeal(&self, id: AppealId, body: &DecisionBody) -> Result<Appeal> {
        self.call(Method::POST, format!("/appeals/{id}/decision"))
            .json(body)
            .send()
            .await
    }

    /// `GET /sanctions/summary`: the organization's rewards, violations, penalties and
    /// appeals, counted.
    pub async fn sanctions_summary(&self) -> Result<SanctionsSummary> {
        self.call(Method::GET, "/sanctions/summary").send().await
    }

    /// `POST /sanctions/sweep`: ends the expired sanctions now; what it ended.
    pub async fn sweep_sanctions(&self) -> Result<SweptSanctions> {
        self.call(Method::POST, "/sanctions/sweep").send().await
    }

    /// `GET /agents/{id}/sanctions`: the agent's rewards and penalties, counted, and the
    /// grants and suspensions in force.
    pub async fn agent_sanctions(&self, id: AgentId) -> Result<HolderSanctions> {
        self.call(Method::GET, format!("/agents/{id}/sanctions"))
            .send()
            .await
    }

    /// `GET /users/{id}/sanctions`: the user's rewards and penalties, counted, and the grants
    /// and suspensions in force.
    pub async fn user_sanctions(&self, id: UserId) -> Result<HolderSanctions> {
        self.call(Method::GET, format!("/users/{id}/sanctions"))
            .send()
            .await
    }
}
