//! `/api/v1/auth`: login, refresh and logout, and the tokens a session answers (also the
//! answer of a sign-up and of an accepted invitation, which log their new user in).

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

// `POST /api/v1/auth/login`. No `Debug`: it holds a password.
#[derive(Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// The organization's slug: an e-mail address is unique only within one organization.
    pub organization: String,
    pub email: String,
    #[schema(format = Password)]
    pub password: String,
}

// `POST /api/v1/auth/refresh`. No `Debug`: it holds a refresh token.
#[derive(Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    /// The `refresh_token` of the last login or refresh.
    pub refresh_token: String,
}

/// A session's tokens.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// A JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(value_type = String, example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Trades for a new pair at `POST /api/v1/auth/refresh`, once.
    pub refresh_token: String,
}

// The tokens stay out of logs.
impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &"<redacted>")
            .finish()
    }
}
