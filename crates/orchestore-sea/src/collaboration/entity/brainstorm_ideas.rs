use sea_orm::entity::prelude::*;

/// An idea of a brainstorm with its kept count of votes, changed only by adding to it in the
/// database.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "brainstorm_ideas")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub brainstorm_id: Uuid,
    pub author_id: Uuid,
    pub author_agent_id: Option<Uuid>,
    pub author_user_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub text: String,
    pub votes: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
