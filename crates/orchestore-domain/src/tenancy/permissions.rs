use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::DomainError;

/// Declares every permission once: each line gives the variant, its doc comment and its code.
/// From that one list come the enum, `ALL`, `code()`, `from_code()`, and `Display`, `FromStr`,
/// `Serialize` and `Deserialize` as the code string.
macro_rules! permissions {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, )+) => {
        /// A permission code such as `tasks:write`. Routes name the one they need; roles grant
        /// them. Serialized, displayed and parsed as its code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Permission {
            $(
                $(#[$doc])*
                #[doc = concat!("\n\nCode: `", $code, "`.")]
                $variant,
            )+
        }

        /// How many permissions there are.
        const COUNT: usize = [$($code),+].len();

        impl Permission {
            /// Every permission, in declaration order.
            pub const ALL: [Permission; COUNT] = [$(Self::$variant),+];

            /// The code stored in `role_permissions` and carried in tokens, e.g. `tasks:write`.
            pub const fn code(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)+
                }
            }

            /// The permission with this code; `None` for a code this build does not know.
            pub fn from_code(code: &str) -> Option<Self> {
                match code {
                    $($code => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

permissions! {
    /// See the organization and its settings.
    OrganizationsRead = "organizations:read",
    /// Change the organization and its settings.
    OrganizationsWrite = "organizations:write",
    /// List and see users.
    UsersRead = "users:read",
    /// Create, change and deactivate users.
    UsersWrite = "users:write",
    /// List and see projects.
    ProjectsRead = "projects:read",
    /// Create, change and delete projects.
    ProjectsWrite = "projects:write",
    /// List and see tasks.
    TasksRead = "tasks:read",
    /// Create, change, claim and complete tasks.
    TasksWrite = "tasks:write",
    /// Read the audit log.
    AuditRead = "audit:read",
    /// List and see roles and what they grant.
    RolesRead = "roles:read",
    /// Create and change roles and grant them to users.
    RolesWrite = "roles:write",
    /// List and see agents.
    AgentsRead = "agents:read",
    /// Register, change and retire agents.
    AgentsWrite = "agents:write",
    /// Report an agent alive (what an agent's own credentials need).
    AgentsHeartbeat = "agents:heartbeat",
    /// Read messages.
    MessagesRead = "messages:read",
    /// Send messages and mark them read.
    MessagesWrite = "messages:write",
    /// List and see workflows, their versions and executions.
    WorkflowsRead = "workflows:read",
    /// Create workflows and versions, start and cancel executions.
    WorkflowsWrite = "workflows:write",
    /// List and see templates.
    TemplatesRead = "templates:read",
    /// Create, change and delete templates.
    TemplatesWrite = "templates:write",
    /// Read and search the knowledge base.
    KnowledgeRead = "knowledge:read",
    /// Write, change and delete knowledge entries and vector collections.
    KnowledgeWrite = "knowledge:write",
    /// Browse, search and read the marketplace's published items.
    MarketplaceRead = "marketplace:read",
    /// Publish the organization's workflows and templates to every organization, and
    /// unpublish them.
    MarketplacePublish = "marketplace:publish",
    /// Record operations in the step log of workflow executions (what a worker running a
    /// step needs; reading the log needs `workflows:read`).
    StepsWrite = "steps:write",
    /// Read and search learning records.
    LearningRead = "learning:read",
    /// Write learning records.
    LearningWrite = "learning:write",
    /// Read the analytics of workflows, kinds of task and templates.
    AnalyticsRead = "analytics:read",
    /// See the database the instance runs on (backend, pool, slowest statements, table
    /// sizes): instance-wide information, served only to the instance's operating
    /// organization.
    SystemRead = "system:read",
    /// List and see events.
    EventsRead = "events:read",
    /// Record events.
    EventsWrite = "events:write",
    /// Query metrics.
    MetricsRead = "metrics:read",
    /// Record metric samples.
    MetricsWrite = "metrics:write",
    /// See the component registry, the communications between components and their health.
    ComponentsRead = "components:read",
    /// Register components and change them.
    ComponentsWrite = "components:write",
    /// Record components' health checks and communications (what a reporting agent needs).
    ComponentsReport = "components:report",
    /// List and see alerts.
    AlertsRead = "alerts:read",
    /// Raise, acknowledge and resolve alerts.
    AlertsWrite = "alerts:write",
    /// See points, levels, ratings, matches and leaderboards.
    CollaborationRead = "collaboration:read",
    /// Award points, start matches and record their results.
    CollaborationWrite = "collaboration:write",
    /// Change the organization's level ladder and K-factors.
    CollaborationAdmin = "collaboration:admin",
}

impl Permission {
    /// `permissions` as a set: sorted by code, each once. Roles store and report their
    /// permissions this way.
    pub fn sorted_set(permissions: impl IntoIterator<Item = Permission>) -> Vec<Permission> {
        let mut set: Vec<Permission> = permissions.into_iter().collect();
        set.sort_by_key(|p| p.code());
        set.dedup();
        set
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Permission {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_code(s)
            .ok_or_else(|| DomainError::invalid("permission", format!("{s:?} is not a permission")))
    }
}

impl Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

deserialize_by_parse!(Permission, String, |raw| raw.parse());

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn codes_are_unique_and_round_trip() {
        assert_eq!(Permission::ALL.len(), 41);
        let codes: BTreeSet<_> = Permission::ALL.iter().map(|p| p.code()).collect();
        assert_eq!(codes.len(), Permission::ALL.len());
        for permission in Permission::ALL {
            let code = permission.code();
            let (area, access) = code.split_once(':').expect("area:access");
            assert!(
                !area.is_empty()
                    && matches!(
                        access,
                        "read" | "write" | "heartbeat" | "publish" | "report" | "admin"
                    ),
                "{code}"
            );
            assert_eq!(Permission::from_code(code), Some(permission));
            assert_eq!(code.parse::<Permission>(), Ok(permission));
            assert_eq!(permission.to_string(), code);
            let json = serde_json::to_value(permission).expect("serialize");
            assert_eq!(json, serde_json::json!(code));
            assert_eq!(
                serde_json::from_value::<Permission>(json).ok(),
                Some(permission)
            );
        }
    }

    #[test]
    fn the_new_codes_exist() {
        assert_eq!(Permission::AgentsRead.code(), "agents:read");
        assert_eq!(
            Permission::from_code("templates:write"),
            Some(Permission::TemplatesWrite)
        );
        assert_eq!(Permission::from_code("tasks:delete"), None);
        let err = "tasks:delete".parse::<Permission>().unwrap_err();
        assert_eq!(err.field(), Some("permission"));
        assert!(serde_json::from_value::<Permission>(serde_json::json!("TasksRead")).is_err());
    }

    #[test]
    fn sorted_sets_order_by_code_without_repeats() {
        let set = Permission::sorted_set([
            Permission::UsersRead,
            Permission::AgentsRead,
            Permission::UsersRead,
        ]);
        assert_eq!(set, vec![Permission::AgentsRead, Permission::UsersRead]);
    }
}
