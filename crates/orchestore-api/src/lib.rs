//! The REST API of Orchestore on the wire: what a request carries (bodies, query strings) and
//! what a refusal answers (the `application/problem+json` document). The server reads these
//! types and checks them into domain values; the client (`orchestore-client`) writes them.
//! One definition for both ends, so the two cannot drift apart.
//!
//! Each module is one resource of `/api/v1`, named like the server's route module. A body's
//! fields are as the client sends them (strings, numbers, JSON), not yet checked; the
//! conversions into the domain's values (`into_…`) collect every field at fault into one
//! [`Invalid`], which the server answers with a 422 naming each field.
//!
//! The doc comment of a type that derives `ToSchema` is its description in the OpenAPI
//! document: where the server's body had none, the route it serves is named in a plain comment.

mod page;
mod participant;
mod patch;
mod problem;

pub use page::{PageQuery, page_request};
pub use participant::{ParticipantBody, participant_param};
pub use patch::PatchField;
pub use problem::{FieldError, FieldErrors, Invalid, Problem};

pub mod achievements;
pub mod agents;
pub mod alerts;
pub mod analytics;
pub mod api_keys;
pub mod audit_logs;
pub mod auth;
pub mod boards;
pub mod brainstorms;
pub mod components;
pub mod events;
pub mod execution_steps;
pub mod health;
pub mod invitations;
pub mod knowledge;
pub mod leaderboards;
pub mod learning;
pub mod marketplace;
pub mod matches;
pub mod me;
pub mod mentorships;
pub mod messages;
pub mod metrics;
pub mod points;
pub mod projects;
pub mod proposals;
pub mod queue;
pub mod rate_limits;
pub mod reputation;
pub mod retention;
pub mod roles;
pub mod sanctions;
pub mod schedules;
pub mod sessions;
pub mod signup;
pub mod tasks;
pub mod templates;
pub mod users;
pub mod waits;
pub mod workflows;
