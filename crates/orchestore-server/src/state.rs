use std::sync::Arc;

use orchestore_repo::Store;

use crate::login_limits::LoginLimits;
use crate::signup_limits::SignupLimits;
use crate::standing::Standings;
use crate::tokens::TokenIssuer;

/// What every handler shares: the store, the bcrypt cost of new passwords, the token issuer,
/// the cached standings of sessions, the limits on unauthenticated requests, and the settings
/// of sign-up and invitations.
pub(crate) struct AppState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) password_cost: u32,
    pub(crate) tokens: TokenIssuer,
    pub(crate) standings: Standings,
    pub(crate) login_limits: LoginLimits,
    /// `auth.open_signup`.
    pub(crate) open_signup: bool,
    pub(crate) signup_limits: SignupLimits,
    /// `auth.invitation_ttl`.
    pub(crate) invitation_ttl: std::time::Duration,
    /// `server.trusted_proxies`.
    pub(crate) trusted_proxies: Vec<std::net::IpAddr>,
    /// `bootstrap.organization`: the slug of the organization that operates the instance, the
    /// only one whose callers see instance-wide information (`/admin/database`).
    pub(crate) operating_organization: String,
}
