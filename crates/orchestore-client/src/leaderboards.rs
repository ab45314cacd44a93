//! `/api/v1/leaderboards` and `/api/v1/collaboration/settings`.

use orchestore_api::leaderboards::{
    Leaderboard, LeaderboardParams, RankSettingsBody, RankSettingsReply,
};
use orchestore_domain::Revision;
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `GET /leaderboards`: the leaderboard's rows, the first rank first.
    pub async fn leaderboard(&self, params: &LeaderboardParams) -> Result<Leaderboard> {
        self.call(Method::GET, "/leaderboards")
            .query(params)
            .send()
            .await
    }

    /// `GET /collaboration/settings`: the level ladder and the ELO settings.
    pub async fn get_rank_settings(&self) -> Result<RankSettingsReply> {
        self.call(Method::GET, "/collaboration/settings")
            .send()
            .await
    }

    /// `PUT /collaboration/settings`: the settings, replaced; with `if_match`, only when they are
    /// still at that revision.
    pub async fn set_rank_settings(
        &self,
        body: &RankSettingsBody,
        if_match: Option<Revision>,
    ) -> Result<RankSettingsReply> {
        self.call(Method::PUT, "/collaboration/settings")
            .if_match(if_match)
            .json(body)
            .send()
            .await
    }
}
