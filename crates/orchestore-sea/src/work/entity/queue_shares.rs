use sea_orm::entity::prelude::*;

/// An organization on the shared worker fleet: the agent the fleet's claims run as, its share
/// (1 to 1,000), and its place in the rotation: `pass` (tasks taken divided by the share) and
/// when it was last served.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "queue_shares")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    pub agent_id: Uuid,
    pub share: i32,
    pub pass: f64,
    pub last_served_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
