use sea_orm::entity::prelude::*;

/// A proposal put to a vote: `result`, `winning_option` (a position), `final_tallies` (the
/// votes of each option, in order), `closed_by` and `closed_at` are written once, when it
/// closes.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "proposals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub kind: String,
    pub quorum: i32,
    pub threshold_basis_points: i32,
    #[sea_orm(column_type = "JsonBinary")]
    pub eligible_roles: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub eligible_agent_kinds: Json,
    pub allow_vote_change: bool,
    pub opens_at: DateTimeUtc,
    pub closes_at: DateTimeUtc,
    pub status: String,
    pub result: Option<String>,
    pub winning_option: Option<i32>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub final_tallies: Option<Json>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
