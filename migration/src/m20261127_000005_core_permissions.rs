use sea_orm_migration::prelude::*;

use crate::grants;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The permissions of the core domain (roles, agents, messages, workflows, templates) and
/// their grants to the system roles, frozen here.
const GRANTS: [(&str, &[&str]); 5] = [
    (
        "owner",
        &[
            "roles:read",
            "roles:write",
            "agents:read",
            "agents:write",
            "agents:heartbeat",
            "messages:read",
            "messages:write",
            "workflows:read",
            "workflows:write",
            "templates:read",
            "templates:write",
        ],
    ),
    (
        "admin",
        &[
            "roles:read",
            "roles:write",
            "agents:read",
            "agents:write",
            "agents:heartbeat",
            "messages:read",
            "messages:write",
            "workflows:read",
            "workflows:write",
            "templates:read",
            "templates:write",
        ],
    ),
    (
        "developer",
        &[
            "roles:read",
            "agents:read",
            "agents:write",
            "agents:heartbeat",
            "messages:read",
            "messages:write",
            "workflows:read",
            "workflows:write",
            "templates:read",
            "templates:write",
        ],
    ),
    (
        "viewer",
        &[
            "roles:read",
            "agents:read",
            "messages:read",
            "workflows:read",
            "templates:read",
        ],
    ),
    (
        "agent",
        &[
            "agents:read",
            "agents:heartbeat",
            "messages:read",
            "messages:write",
            "workflows:read",
            "templates:read",
        ],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        grants::grant(manager, &GRANTS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        grants::revoke(manager, &GRANTS).await
    }
}
