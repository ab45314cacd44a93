//! Agents.

mod agent_api_keys;
pub(crate) mod entity;
mod repo;

crate::scoped::entities! {
    tenanted:
        entity::agents::Entity => "agent",
        entity::agent_api_keys::Entity => "agent_api_key";
    audited:
}
