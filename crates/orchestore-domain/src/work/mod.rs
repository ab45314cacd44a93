//! Work: projects, the tasks in them, the tasks' history and statistics.

mod event;
mod project;
mod stats;
mod task;
mod values;

pub use event::TaskEvent;
pub use project::{NewProject, Project, ProjectPatch, parse_repository_url};
pub use stats::{PriorityCount, RunTimeStats, TaskStats};
pub use task::{NewTask, Task, TaskPatch, TaskStatus};
pub use values::{Effort, IdempotencyKey, MaxAttempts, Progress};
