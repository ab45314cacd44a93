//! Orchestore's REST server: [`Application`] serves a [`Store`](orchestore_repo::Store) over
//! an authenticated JSON API under `/api/v1`, with `/health/live` and `/health/ready`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), orchestore_server::StartupError> {
//! use orchestore_server::{Application, Settings};
//! let app = Application::build(Settings::default()).await?;
//! println!("listening on port {}", app.port());
//! app.run_until_stopped().await.ok();
//! # Ok(()) }
//! ```
//!
//! Errors are `application/problem+json` documents; see [`ApiError`] for the statuses.

pub mod audit;
mod auth;
mod client;
mod conditional;
mod config;
mod deadline;
mod docs;
mod error;
mod extract;
mod head;
mod idempotency;
mod in_flight;
mod login_limits;
pub mod migrations;
mod openapi;
mod prometheus;
mod request_id;
pub mod retention;
mod routes;
pub mod seed;
pub mod shared_fleet;
mod signup_limits;
mod standing;
mod startup;
mod state;
pub mod status;
mod sweeps;
pub mod taskmaster;
mod telemetry;
mod tokens;
pub mod transfer;

pub use config::CollaborationSettings;
pub use config::RetentionSettings;
pub use config::{
    AuditSettings, AuthSettings, BootstrapSettings, LogFormat, LogSettings, MetricsSettings,
    Secret, ServerSettings, Settings, SettingsError,
};
pub use error::{ApiError, AuthFailure, FieldError};
/// Not part of the API: the route table, for the tests that check every route is covered.
#[doc(hidden)]
pub use openapi::document as openapi_document;
pub use routes::route_table;
pub use startup::{Application, StartupError};
pub use telemetry::init_tracing;
