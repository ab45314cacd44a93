//! The permission matrix: each system role, and an agent's API key, calls every route, and is
//! refused (403) exactly where its permissions do not cover the route's row. The README's
//! table of who may call what is this matrix, printed: the test compares them.

use std::collections::{BTreeMap, BTreeSet};

use orchestore_domain::Permission;
use reqwest::StatusCode;

use super::{Everything, Needs, Row, rows};
use crate::helpers::*;

/// The README, whose table between these markers must be [`readme_table`].
const README: &str = include_str!("../../../../../README.md");
const TABLE_START: &str = "<!-- route permissions: start -->";
const TABLE_END: &str = "<!-- route permissions: end -->";

/// A caller: a user holding one system role, or an agent's API key (which carries the `agent`
/// role's permissions and is no person).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Role(&'static str),
    AgentKey,
}

const CALLERS: [Caller; 6] = [
    Caller::Role("owner"),
    Caller::Role("admin"),
    Caller::Role("developer"),
    Caller::Role("viewer"),
    Caller::Role("agent"),
    Caller::AgentKey,
];

impl Caller {
    fn may(self, needs: Needs, granted: &BTreeMap<String, BTreeSet<Permission>>) -> bool {
        let role = match self {
            Self::Role(role) => role,
            Self::AgentKey => "agent",
        };
        match needs {
            Needs::Nothing => true,
            Needs::User => self != Self::AgentKey,
            Needs::All(needed) => needed.iter().all(|p| granted[role].contains(p)),
        }
    }
}

pub async fn each_role_gets_what_its_permissions_allow(app: &TestApp) {
    let admin = app.admin_token().await;
    let granted = system_role_permissions(app, &admin).await;
    for caller in CALLERS {
        if let Caller::Role(role) = caller {
            app.create_user(&admin, &email_of(role), &[role]).await;
        }
    }
    let mut failures = Vec::new();
    for caller in CALLERS {
        // Each caller gets a set of its own, so what one deletes another still finds.
        let tag = match caller {
            Caller::Role(role) => role,
            Caller::AgentKey => "key",
        };
        let ids = Everything::create(app, ORGANIZATION, ADMIN_EMAIL, ADMIN_PASSWORD, tag).await;
        let own_token = match caller {
            Caller::Role(role) => app.token(&email_of(role), USER_PASSWORD).await,
            Caller::AgentKey => ids.api_key_secret.clone(),
        };
        for row in rows() {
            let token = match caller {
                Caller::Role(role) if row.ends_session => {
                    app.token(&email_of(role), USER_PASSWORD).await
                }
                _ => own_token.clone(),
            };
            let reply = app
                .send(
                    row.method.clone(),
                    &row.path(&ids),
                    Some(&token),
                    row.body.map(|body| body(&ids)),
                )
                .await;
            if row.off {
                if reply.status != StatusCode::FORBIDDEN {
                    failures.push(format!(
                        "{caller:?} {} {}: the route is off, 403 expected, got {} {}",
                        row.method,
                        row.route,
                        reply.status,
                        reply.body_excerpt()
                    ));
                }
                continue;
            }
            let allowed = caller.may(row.needs, &granted);
            let refused = reply.status == StatusCode::FORBIDDEN;
            // A public route may answer 401 to a bad password; any other 401 is a dead token.
            let unauthenticated =
                reply.status == StatusCode::UNAUTHORIZED && !matches!(row.needs, Needs::Nothing);
            if allowed == refused || unauthenticated || reply.status.is_server_error() {
                failures.push(format!(
                    "{caller:?} {} {}: {} expected, got {} {}",
                    row.method,
                    row.route,
                    if allowed { "allowed" } else { "403" },
                    reply.status,
                    reply.body_excerpt()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));

    let expected = expected_table(&granted);
    assert!(
        readme_table() == expected,
        "README.md's table between {TABLE_START} and {TABLE_END} must read:\n{expected}\n"
    );
}

fn email_of(role: &str) -> String {
    format!("{role}-caller@example.test")
}

/// The permissions of each system role, as the database grants them.
async fn system_role_permissions(
    app: &TestApp,
    token: &str,
) -> BTreeMap<String, BTreeSet<Permission>> {
    let roles = app.get(token, "/api/v1/roles?limit=200").await;
    assert_eq!(roles.status, StatusCode::OK, "{}", roles.body);
    let granted: BTreeMap<String, BTreeSet<Permission>> = roles.body["items"]
        .as_array()
        .expect("roles")
        .iter()
        .filter(|role| role["is_system"] == true)
        .map(|role| {
            let permissions = role["permissions"]
                .as_array()
                .expect("permissions")
                .iter()
                .map(|code| {
                    code.as_str()
                        .and_then(Permission::from_code)
                        .expect("a code")
                })
                .collect();
            (role["code"].as_str().expect("code").to_owned(), permissions)
        })
        .collect();
    let roles: Vec<&str> = granted.keys().map(String::as_str).collect();
    assert_eq!(roles, ["admin", "agent", "developer", "owner", "viewer"]);
    granted
}

/// The README's table, between its markers.
fn readme_table() -> &'static str {
    let start = README.find(TABLE_START).expect("the table's start marker") + TABLE_START.len();
    let end = README.find(TABLE_END).expect("the table's end marker");
    README[start..end].trim()
}

/// The matrix as the README prints it: each route, what it needs, and who has that.
fn expected_table(granted: &BTreeMap<String, BTreeSet<Permission>>) -> String {
    let mut lines = vec![
        "| method | path | needs | owner | admin | developer | viewer | agent | agent's key |"
            .to_owned(),
        "|---|---|---|:-:|:-:|:-:|:-:|:-:|:-:|".to_owned(),
    ];
    for row in rows() {
        let cells: Vec<&str> = CALLERS
            .iter()
            .map(|caller| {
                if caller.may(row.needs, granted) {
                    "✓"
                } else {
                    "—"
                }
            })
            .collect();
        lines.push(format!(
            "| {} | `{}` | {} | {} |",
            row.method,
            row.route,
            needs_text(&row),
            cells.join(" | ")
        ));
    }
    lines.join("\n")
}

fn needs_text(row: &Row) -> String {
    match row.needs {
        Needs::Nothing if row.off => "no token, when `auth.open_signup` is on".to_owned(),
        Needs::Nothing => "no token".to_owned(),
        Needs::User => "a user".to_owned(),
        Needs::All(permissions) => permissions
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(" + "),
    }
}
