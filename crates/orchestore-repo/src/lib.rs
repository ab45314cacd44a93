//! Orchestore's repository layer: the traits every backend implements, the [`Store`] that
//! bundles them, the [`Ctx`] each call runs in, pagination, and [`RepoError`].
//!
//! The traits name no ORM type; `orchestore-sea` implements them for SQLite and PostgreSQL.
//! They work generically (`S: Store`) and as `Arc<dyn Store>`.

mod ctx;
mod error;
mod page;
mod traits;

pub use ctx::{Actor, Ctx};
pub use error::{RepoError, RepoResult};
pub use page::{Cursor, Limit, Page, PageRequest, SortOrder};
pub use traits::{
    AuditEntry, AuditRepo, AuthRepo, Backend, OrganizationRepo, ProjectRepo, SessionGrant, Store,
    StoreHealth, TaskFilter, TaskRepo, UserRepo,
};

pub use async_trait::async_trait;
