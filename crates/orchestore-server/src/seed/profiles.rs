//! The seed profiles: how much of each aggregate they write, and the sample content.

use orchestore_domain::{AgentKind, AgentStatus};
use serde::Serialize;

/// The kinds of seed: how much, and for what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedProfile {
    /// Small and realistic, to develop against.
    Development,
    /// Larger, a story across every aggregate, to show.
    Demo,
    /// Minimal and always the same, for scripts.
    Testing,
}

impl SeedProfile {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Demo => "demo",
            Self::Testing => "testing",
        }
    }

    /// The slug of the organization the profile seeds.
    pub fn slug(self) -> String {
        format!("seed-{}", self.name())
    }

    pub(super) fn size(self) -> Size {
        match self {
            Self::Testing => Size {
                agents: 2,
                projects: 1,
                tasks_per_project: 3,
                done_per_project: 1,
                knowledge_entries: 1,
                messages: 2,
                metric_samples: 3,
            },
            Self::Development => Size {
                agents: 3,
                projects: 1,
                tasks_per_project: 6,
                done_per_project: 2,
                knowledge_entries: 3,
                messages: 4,
                metric_samples: 12,
            },
            Self::Demo => Size {
                agents: AGENTS.len(),
                projects: PROJECTS.len(),
                tasks_per_project: TASKS.len(),
                done_per_project: 3,
                knowledge_entries: KNOWLEDGE.len(),
                messages: MESSAGES.len(),
                metric_samples: 48,
            },
        }
    }
}

/// How many of each kind a profile seeds (every list below is at least this long).
pub(super) struct Size {
    pub(super) agents: usize,
    pub(super) projects: usize,
    pub(super) tasks_per_project: usize,
    pub(super) done_per_project: usize,
    pub(super) knowledge_entries: usize,
    pub(super) messages: usize,
    pub(super) metric_samples: usize,
}

pub(super) struct AgentSpec {
    pub(super) name: &'static str,
    pub(super) kind: AgentKind,
    pub(super) capabilities: &'static [&'static str],
    pub(super) status: AgentStatus,
    pub(super) model: Option<&'static str>,
}

/// Active agents first: the seed's tasks are done by them.
pub(super) const AGENTS: [AgentSpec; 6] = [
    AgentSpec {
        name: "Planner",
        kind: AgentKind::Ai,
        capabilities: &["planning", "analysis"],
        status: AgentStatus::Active,
        model: Some("claude-opus"),
    },
    AgentSpec {
        name: "Coder",
        kind: AgentKind::Ai,
        capabilities: &["coding", "rust"],
        status: AgentStatus::Active,
        model: Some("claude-sonnet"),
    },
    AgentSpec {
        name: "Reviewer",
        kind: AgentKind::Ai,
        capabilities: &["review", "testing"],
        status: AgentStatus::Active,
        model: Some("claude-sonnet"),
    },
    AgentSpec {
        name: "Deployer",
        kind: AgentKind::Bot,
        capabilities: &["deploy"],
        status: AgentStatus::Busy,
        model: None,
    },
    AgentSpec {
        name: "Archivist",
        kind: AgentKind::Bot,
        capabilities: &["documentation"],
        status: AgentStatus::Inactive,
        model: None,
    },
    AgentSpec {
        name: "Ada",
        kind: AgentKind::Human,
        capabilities: &["design", "review"],
        status: AgentStatus::Offline,
        model: None,
    },
];

pub(super) const PROJECTS: [(&str, &str); 2] = [
    ("Apollo", "The landing-site survey service."),
    ("Gemini", "The telemetry pipeline."),
];

/// In order: task `i` waits for task `(i - 1) / 2`, so they form a tree that the seed walks
/// from the root to mark the first ones done.
pub(super) const TASKS: [&str; 8] = [
    "Gather the requirements",
    "Design the schema",
    "Plan the milestones",
    "Implement the API",
    "Write the migrations",
    "Review the design",
    "Write the tests",
    "Write the documentation",
];

pub(super) const KNOWLEDGE: [(&str, &str, &[&str]); 6] = [
    (
        "Coding conventions",
        "Parse input once at the edge into types that cannot hold bad values.",
        &["conventions", "rust"],
    ),
    (
        "Release checklist",
        "Run the migrations on a copy, verify the audit chain, then deploy.",
        &["release", "ops"],
    ),
    (
        "Review guide",
        "A review checks the tests first: they say what the change is for.",
        &["review"],
    ),
    (
        "Incident runbook",
        "Page the on-call, open a thread, and write the timeline as it happens.",
        &["ops", "incidents"],
    ),
    (
        "Glossary",
        "An execution is one run of a workflow version; each of its steps is a task.",
        &["workflows"],
    ),
    (
        "Onboarding",
        "New agents start with review tasks and a mentor.",
        &["agents"],
    ),
];

pub(super) const MESSAGES: [&str; 10] = [
    "The requirements are in; can you start on the schema?",
    "On it. I will need the data retention rules.",
    "Retention is 30 days for events, forever for the audit log.",
    "Schema drafted, ready for review.",
    "Two comments on the indexes; otherwise good.",
    "Fixed both, please take another look.",
    "Approved. Deployer, staging is yours.",
    "Deploying to staging now.",
    "Staging is green.",
    "Documenting the release notes.",
];
