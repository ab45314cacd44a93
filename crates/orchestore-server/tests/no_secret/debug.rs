//! `Debug` of every public value that holds a secret.

use chrono::Utc;
use orchestore_domain::{
    AgentId, ApiKey, ApiKeyId, ApiKeySecret, Email, Invitation, InvitationId, InvitationToken,
    IssuedApiKey, IssuedInvitation, KeyOwner, KeyScopes, Name, NewUser, OrganizationId, Password,
    PasswordHash, SystemRole,
};
use orchestore_sea::{DatabaseUrl, DbConfig};
use orchestore_server::{Secret, Settings};

use crate::Secrets;

#[test]
fn debug_output_shows_no_secret() {
    let mut secrets = Secrets::default();
    let mut shown = Vec::new();

    let mut settings = Settings::default();
    settings.auth.jwt_secret = Some(Secret::new("jwt key of 32 bytes or more, really"));
    settings.bootstrap.admin_password = Some(Secret::new("admin password"));
    settings.database = DbConfig::new("host=db user=app password='db pass word' dbname=orchestore");
    secrets.add("the JWT key", "jwt key of 32 bytes or more, really");
    secrets.add("the admin's password", "admin password");
    secrets.add("the database password", "db pass word");
    shown.push(debug(&settings));
    shown.push(debug(&settings.database));

    for (url, password) in [
        ("postgres://app:url-db-pass@db/orchestore", "url-db-pass"),
        (
            "postgres://db/orchestore?password=query-db-pass",
            "query-db-pass",
        ),
        (
            "postgres://db/orchestore?sslpassword=ssl-key-pass",
            "ssl-key-pass",
        ),
    ] {
        secrets.add("a database password", password);
        shown.push(debug(&DbConfig::new(url)));
        shown.push(debug(&DatabaseUrl::new(url)));
    }

    let password = Password::parse("users password").expect("a password");
    let hash = PasswordHash::hash(&password, 4).expect("a hash");
    secrets.add("a password", password.expose());
    secrets.add("a bcrypt hash", hash.as_str());
    shown.push(debug(&(&password, &hash)));
    let new_user = NewUser {
        email: Email::parse("someone@example.test").expect("an email"),
        username: None,
        display_name: Name::parse("display_name", "Someone").expect("a name"),
        password_hash: hash.clone(),
        roles: vec![SystemRole::Viewer.into()],
    };
    shown.push(debug(&new_user));

    let org = OrganizationId::new();
    let id = ApiKeyId::new();
    let key = ApiKeySecret::new(org, id, [42; 32]);
    secrets.add("an API key", key.expose());
    // No part of it either: the random bytes are its last characters.
    secrets.add("an API key's end", &key.expose()[key.expose().len() - 40..]);
    let issued = IssuedApiKey {
        key: ApiKey {
            id,
            organization_id: org,
            owner: KeyOwner::Agent(AgentId::new()),
            name: Name::parse("name", "host-1").expect("a name"),
            scopes: KeyScopes::owners(),
            created_by: "user:someone".to_owned(),
            created_at: Utc::now(),
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
        },
        secret: key.clone(),
    };
    shown.push(debug(&(&key, &issued)));

    let token = InvitationToken::new([43; 32]);
    secrets.add("an invitation token", token.expose());
    secrets.add(
        "an invitation token's end",
        &token.expose()[token.expose().len() - 40..],
    );
    let now = Utc::now();
    let invitation = IssuedInvitation {
        invitation: Invitation {
            id: InvitationId::new(),
            organization_id: org,
            email: Email::parse("invited@example.test").expect("an email"),
            roles: vec![SystemRole::Viewer.into()],
            invited_by: "user:someone".to_owned(),
            created_at: now,
            expires_at: now,
            accepted_at: None,
            accepted_user_id: None,
            revoked_at: None,
        },
        token: token.clone(),
    };
    let acceptance = orchestore_repo::InvitationAcceptance {
        display_name: Name::parse("display_name", "Invited").expect("a name"),
        username: None,
        password_hash: hash.clone(),
    };
    shown.push(debug(&(&token, &invitation, &acceptance)));

    for output in shown {
        secrets.assert_absent("a Debug output", &output);
    }
}

/// `{:?}` and `{:#?}` of `value`.
fn debug(value: &impl std::fmt::Debug) -> String {
    format!("{value:?}\n{value:#?}")
}
