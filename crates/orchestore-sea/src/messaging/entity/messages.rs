use sea_orm::entity::prelude::*;

/// A message of one organization. Each end is an agent or a user: exactly one column of each
/// pair is set (checked by the schema), and each has a composite foreign key that keeps it in
/// the message's organization, as does the optional task.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub sender_agent_id: Option<Uuid>,
    pub sender_user_id: Option<Uuid>,
    pub recipient_agent_id: Option<Uuid>,
    pub recipient_user_id: Option<Uuid>,
    pub task_id: Option<Uuid>,
    pub thread_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub metadata: Json,
    pub read_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "crate::tenancy::entity::organizations::Entity",
        from = "Column::OrganizationId",
        to = "crate::tenancy::entity::organizations::Column::Id",
        on_delete = "Cascade"
    )]
    Organization,
    #[sea_orm(
        belongs_to = "crate::agents::entity::agents::Entity",
        from = "(Column::OrganizationId, Column::SenderAgentId)",
        to = "(crate::agents::entity::agents::Column::OrganizationId, crate::agents::entity::agents::Column::Id)",
        on_delete = "Cascade"
    )]
    SenderAgent,
    #[sea_orm(
        belongs_to = "crate::tenancy::entity::users::Entity",
        from = "(Column::OrganizationId, Column::SenderUserId)",
        to = "(crate::tenancy::entity::users::Column::OrganizationId, crate::tenancy::entity::users::Column::Id)",
        on_delete = "Cascade"
    )]
    SenderUser,
    #[sea_orm(
        belongs_to = "crate::agents::entity::agents::Entity",
        from = "(Column::OrganizationId, Column::RecipientAgentId)",
        to = "(crate::agents::entity::agents::Column::OrganizationId, crate::agents::entity::agents::Column::Id)",
        on_delete = "Cascade"
    )]
    RecipientAgent,
    #[sea_orm(
        belongs_to = "crate::tenancy::entity::users::Entity",
        from = "(Column::OrganizationId, Column::RecipientUserId)",
        to = "(crate::tenancy::entity::users::Column::OrganizationId, crate::tenancy::entity::users::Column::Id)",
        on_delete = "Cascade"
    )]
    RecipientUser,
    #[sea_orm(
        belongs_to = "crate::work::entity::tasks::Entity",
        from = "(Column::OrganizationId, Column::TaskId)",
        to = "(crate::work::entity::tasks::Column::OrganizationId, crate::work::entity::tasks::Column::Id)",
        on_delete = "Cascade"
    )]
    Task,
}

impl Related<crate::tenancy::entity::organizations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl Related<crate::work::entity::tasks::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Task.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
