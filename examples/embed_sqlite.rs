//! Embeds Orchestore on a SQLite file through the repository crates alone: no server.
//!
//! ```sh
//! cargo run --example embed_sqlite -- /tmp/orchestore-example.db
//! ```
//!
//! It creates an organization, a project and three tasks, then reads them back, highest
//! priority first.

use orchestore::domain::{
    Capabilities, Description, Metadata, Name, NewOrganization, NewProject, NewTask,
    OrganizationId, Payload, Priority, Slug, Tags, Title,
};
use orchestore::repo::{
    Ctx, OrganizationRepo, PageRequest, ProjectRepo, TaskFilter, TaskRepo, TaskSort,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "orchestore-example.db".to_owned());
    let store = orchestore::open(&format!("sqlite://{path}?mode=rwc")).await?;

    // Every call runs in a context: which organization, and who acts.
    let ctx = Ctx::system(OrganizationId::new());
    // The random end of the id keeps the slug unique when the example runs again on one file.
    let id = ctx.org().to_string();
    let slug = format!("example-{}", &id[id.len() - 12..]);
    store
        .create_organization(
            &ctx,
            NewOrganization {
                slug: Slug::parse("slug", &slug)?,
                name: Name::parse("name", "Example Org")?,
            },
        )
        .await?;

    let created = store
        .create_project(
            &ctx,
            NewProject {
                name: Name::parse("name", "Moon landing")?,
                description: Description::parse("description", "Plan and fly Apollo 11")?,
                repository_url: None,
                tags: Tags::parse(&["space"])?,
                settings: Metadata::default(),
            },
        )
        .await?;

    for (title, priority, capabilities) in [
        ("Write the flight plan", 10, vec!["planning"]),
        ("Check the fuel", 50, vec!["engineering"]),
        ("Pick the crew", 30, vec![]),
    ] {
        store
            .create_task(
                &ctx,
                NewTask {
                    priority: Priority::parse(priority)?,
                    required_capabilities: Capabilities::parse(&capabilities)?,
                    payload: Payload::parse(serde_json::json!({ "source": "embed_sqlite" }))?,
                    ..NewTask::titled(created.id, Title::parse(title)?)
                },
            )
            .await?;
    }

    // Read everything back from the file.
    let org = store.get_organization(&ctx).await?;
    let project = store.get_project(&ctx, created.id).await?;
    let filter = TaskFilter {
        project_id: Some(project.id),
        ..TaskFilter::default()
    };
    let highest_first = PageRequest::default().sorted(TaskSort::PriorityDesc);
    let tasks = store.list_tasks(&ctx, filter, highest_first).await?.items;

    println!("organization {} ({})", org.name, org.id);
    println!("project {} ({})", project.name, project.id);
    for task in &tasks {
        println!(
            "  [{:>3}] {:<24} {} {:?}",
            task.priority.get(),
            task.title,
            task.status,
            task.required_capabilities.to_strings()
        );
    }
    Ok(())
}
