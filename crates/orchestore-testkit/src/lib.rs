//! Orchestore's test kit: [`TestDb`] (a database each test owns, on SQLite or PostgreSQL),
//! fixtures, and the contract suite every [`Store`](orchestore_repo::Store) must pass.
//!
//! The contract cases live in [`cases`], one module per aggregate, as plain generic async functions; the
//! [`contract_suite!`] macro expands them into one test per case and backend.

pub mod cases;
mod fixtures;
mod proxy;
mod test_db;

pub use cases::isolation::repository_methods;
pub use fixtures::{Fixture, TEST_BCRYPT_COST};
pub use proxy::TcpProxy;
pub use test_db::{PG_URL_VAR, TestDb};
