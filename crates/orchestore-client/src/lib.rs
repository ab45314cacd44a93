//! A typed client of Orchestore's REST API (`/api/v1`).
//!
//! Every operation of the server is a method of [`Client`], taking the server's own request
//! types (from `orchestore-api`) and answering its own response types (from
//! `orchestore-domain` and `orchestore-repo`): one definition for both ends. A refusal is an
//! [`Error::Problem`] carrying the server's problem document; a list is a [`Page`], or a
//! stream of its items across every page (`…_stream` methods).
//!
//! ```no_run
//! # async fn run() -> Result<(), orchestore_client::Error> {
//! use orchestore_client::{Client, Credential};
//! use orchestore_client::api::projects::CreateProjectBody;
//!
//! let client = Client::new("http://127.0.0.1:8080", Credential::ApiKey("osk_…".into()))?;
//! let project = client
//!     .create_project(&CreateProjectBody { name: "web".into(), ..Default::default() })
//!     .await?;
//! println!("{} is {}", project.name, project.id);
//! # Ok(())
//! # }
//! ```
//!
//! The client speaks plain HTTP as built; for `https://` servers enable a TLS feature of
//! `reqwest` in your own `Cargo.toml` (Cargo unifies the features of one crate).

mod achievements;
mod admin;
mod agents;
mod alerts;
mod analytics;
mod api_keys;
mod audit_logs;
mod auth;
mod boards;
mod brainstorms;
mod components;
mod events;
mod health;
mod invitations;
mod knowledge;
mod leaderboards;
mod learning;
mod marketplace;
mod matches;
mod me;
mod mentorships;
mod messages;
mod metrics;
mod openapi;
mod organizations;
mod points;
mod projects;
mod proposals;
mod queue;
mod rate_limits;
mod reputation;
mod retention;
mod roles;
mod sanctions;
mod schedules;
mod sessions;
mod signup;
mod tasks;
mod templates;
mod transport;
mod users;
mod workflows;

pub use orchestore_api as api;
pub use orchestore_api::{FieldError, Problem};
pub use orchestore_repo::Page;
pub use transport::{Client, Credential, Error, Result};
