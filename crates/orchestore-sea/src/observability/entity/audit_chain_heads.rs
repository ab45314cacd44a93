use sea_orm::entity::prelude::*;

/// An organization's last sealed link of its audit chain, and the link before its first kept
/// row (`anchor_seq` 0 and no `anchor_hash` until retention purged the chain's oldest rows). No
/// foreign key to organizations: like the log, it outlives what it describes.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_chain_heads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    pub seq: i64,
    pub hash: String,
    pub sealed_at: DateTimeUtc,
    pub anchor_seq: i64,
    pub anchor_hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
