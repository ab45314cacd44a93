//! `/api/v1/leaderboards/settings`, `/api/v1/leaderboards/snapshots` and
//! `/api/v1/leaderboards/hall-of-fame`.

use futures_util::Stream;
use orchestore_api::boards::{
    FameQuery, HallOfFame, LeaderboardSnapshotBody, LeaderboardWeightsBody,
    LeaderboardWeightsReply, SnapshotsQuery,
};
use orchestore_domain::{LeaderboardSnapshot, LeaderboardSnapshotId, Revision, SnapshotBoard};
use orchestore_repo::{Page, SnapshotSort};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `GET /leaderboards/settings`: the weights of the combined ranking.
    pub async fn get_leaderboard_weights(&self) -> Result<LeaderboardWeightsReply> {
        self.call(Method::GET, "/leaderboards/settings")
            .send()
            .await
    }

    /// `PUT /leaderboards/settings`: the weights, replaced; with `if_match`, only when they are
    /// still at that revision.
    pub async fn set_leaderboard_weights(
        &self,
        body: &LeaderboardWeightsBody,
        if_match: Option<Revision>,
    ) -> Result<LeaderboardWeightsReply> {
        self.call(Method::PUT, "/leaderboards/settings")
            .if_match(if_match)
            .json(body)
            .send()
            .await
    }

    /// `POST /leaderboards/snapshots`: the snapshot with its rows.
    pub async fn take_leaderboard_snapshot(
        &self,
        body: &LeaderboardSnapshotBody,
    ) -> Result<SnapshotBoard> {
        self.call(Method::POST, "/leaderboards/snapshots")
            .json(body)
            .send()
            .await
    }

    /// `GET /leaderboards/snapshots`: one page, without their rows.
    pub async fn list_leaderboard_snapshots(
        &self,
        query: &SnapshotsQuery,
    ) -> Result<Page<LeaderboardSnapshot, SnapshotSort>> {
        self.call(Method::GET, "/leaderboards/snapshots")
            .query(query)
            .send()
            .await
    }

    /// `GET /leaderboards/snapshots`: every snapshot from the page `query` names on.
    pub fn list_leaderboard_snapshots_stream(
        &self,
        query: &SnapshotsQuery,
    ) -> impl Stream<Item = Result<LeaderboardSnapshot>> + Send + 'static {
        self.stream::<LeaderboardSnapshot, SnapshotSort>(
            "/leaderboards/snapshots".to_owned(),
            query,
        )
    }

    /// `GET /leaderboards/snapshots/{id}`: the snapshot with its rows.
    pub async fn get_leaderboard_snapshot(
        &self,
        id: LeaderboardSnapshotId,
    ) -> Result<SnapshotBoard> {
        self.call(Method::GET, format!("/leaderboards/snapshots/{id}"))
            .send()
            .await
    }

    /// `GET /leaderboards/hall-of-fame`: the holders a leaderboard's snapshots ranked within
    /// the top, most often first.
    pub async fn hall_of_fame(&self, query: &FameQuery) -> Result<HallOfFame> {
        self.call(Method::GET, "/leaderboards/hall-of-fame")
            .query(query)
            .send()
            .await
    }
}
