use sea_orm::entity::prelude::*;

/// One row of the append-only audit log. No foreign key to organizations: the log outlives
/// what it describes. `seq` and `hash` are empty until the row is sealed into its
/// organization's chain.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "audit_logs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub changes: Json,
    pub request_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub client_addr: Option<String>,
    pub credential: Option<String>,
    pub seq: Option<i64>,
    pub hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
