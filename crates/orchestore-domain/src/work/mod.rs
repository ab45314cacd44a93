//! Work: projects and the tasks in them.

mod project;
mod task;

pub use project::{NewProject, Project, ProjectPatch, parse_repository_url};
pub use task::{NewTask, Task, TaskPatch, TaskStatus};
