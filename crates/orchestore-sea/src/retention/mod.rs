//! Retention: each organization's policy (`policies.rs`, which implements `RetentionRepo`) and
//! the purge that applies it (`purge.rs`).
//!
//! A purge deletes in batches: each batch one statement (its own transaction) deleting at most
//! the batch's number of rows, chosen by the index that leads with the organization and the
//! row's time; batch after batch until none is due. Audit rows go through the chain's own
//! batch (`observability::audit_logs`), under the organization's chain head.

pub(crate) mod entity;
mod policies;
mod purge;

crate::scoped::entities! {
    tenanted: ;
    audited: entity::retention_policies::Entity => "retention_policy"
}

crate::revision::revised! { entity::retention_policies::Entity }
