//! `orchestore import taskmaster`, run as an operator runs it: the built binary on the
//! Taskmaster files of `tests/fixtures/taskmaster/` (copied into a directory the test owns, so
//! that it can change them), over a database the test owns, on SQLite and PostgreSQL.

use std::path::{Path, PathBuf};

use orchestore_domain::{AgentKind, LeaseDuration, Name, NewAgent, TaskId, TaskStatus};
use orchestore_repo::{DependencySort, PageRequest, ProjectSort, Store};
use orchestore_testkit::{Fixture, TestDb};
use serde_json::Value;

use crate::binary::orchestore;

const PASSWORD: &str = "correct horse battery";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/taskmaster")
}

/// Copies the fixture directory `name` to `into`, hidden files included.
fn copy_fixture(name: &str, into: &Path) {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read dir") {
            let entry = entry.expect("entry");
            let target = to.join(entry.file_name());
            if entry.file_type().expect("type").is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).expect("copy");
            }
        }
    }
    copy(&fixtures().join(name), into);
}

/// The entry of Taskmaster task `id` in list `kind` of `tag` in a report.
fn entry<'r>(report: &'r Value, tag: &str, kind: &str, id: &str) -> &'r Value {
    report["tags"][tag][kind]
        .as_array()
        .and_then(|items| items.iter().find(|e| e["id"] == id))
        .unwrap_or_else(|| panic!("no {kind} task {id} in tag {tag}: {report:#}"))
}

fn task_id(entry: &Value) -> TaskId {
    entry["task_id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a task id")
}

fn counts(report: &Value, tag: &str) -> [u64; 5] {
    let c = &report["tags"][tag]["counts"];
    ["created", "updated", "unchanged", "skipped", "missing"].map(|k| c[k].as_u64().expect(k))
}

async fn a_tagged_project_is_imported_then_updated_in_place(db: TestDb) {
    let store: &dyn Store = db.store();
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("rocket");
    copy_fixture("tagged", &root);
    let file = root.join(".taskmaster/tasks/tasks.json");
    let file_arg = file.to_str().expect("path");
    let import = async |extra: &[&str]| {
        let mut args = vec!["import", "taskmaster", file_arg, "--organization", "acme"];
        args.extend_from_slice(extra);
        orchestore(db.url(), &args).await
    };

    let first = import(&[]).await.report();
    assert_eq!(first["layout"], "tagged");
    assert_eq!(first["actor"], "system");
    assert_eq!(first["project"]["name"], "Rocket", "from the config");
    assert_eq!(first["project"]["created"], true);
    assert_eq!(counts(&first, "master"), [8, 0, 0, 0, 0]);
    assert_eq!(counts(&first, "feature-parachute"), [2, 0, 0, 0, 0]);
    let status = |id: &str| entry(&first, "master", "created", id)["status"].clone();
    for (id, expected) in [
        ("1", "succeeded"),
        ("2", "queued"),
        ("2.1", "succeeded"),
        ("2.2", "queued"),
        ("3", "blocked"),
        ("4", "blocked"),
        ("5", "cancelled"),
        ("6", "blocked"),
    ] {
        assert_eq!(status(id), expected, "task {id}");
    }

    // What the store holds: the graph, the priorities, what Taskmaster had besides.
    let id = |tag: &str, id: &str| task_id(entry(&first, tag, "created", id));
    let launch = store.get_task(ctx, id("master", "3")).await.expect("3");
    let waits: Vec<TaskId> = store
        .list_dependencies(ctx, launch.id, PageRequest::<DependencySort>::default())
        .await
        .expect("dependencies")
        .items
        .iter()
        .map(|t| t.id)
        .collect();
    let mut expected = vec![id("master", "2"), id("master", "2.2")];
    expected.sort();
    assert_eq!(waits, expected);
    let chamber = store.get_task(ctx, id("master", "2.2")).await.expect("2.2");
    assert_eq!(chamber.parent_id, Some(id("master", "2")));
    let kept = &chamber.metadata.to_value()["taskmaster"];
    assert_eq!(kept["details"], "Cool it with the fuel.");
    assert_eq!(kept["testStrategy"], "Hot fire.");
    let engine = store.get_task(ctx, id("master", "2")).await.expect("2");
    assert_eq!(engine.metadata.to_value()["taskmaster"]["complexity"], 7);
    assert_eq!(
        engine.metadata.to_value()["taskmaster"]["status"],
        "in-progress"
    );
    assert_eq!(engine.priority.get(), 0, "medium");
    let legal = store.get_task(ctx, id("master", "6")).await.expect("6");
    assert_eq!(
        legal.priority.get(),
        10,
        "the config's defaultPriority, high"
    );
    assert_eq!(legal.metadata.to_value()["taskmaster"]["assignee"], "ada");
    let project = store
        .get_project(ctx, launch.project_id)
        .await
        .expect("project");
    let settings = project.settings.to_value();
    assert_eq!(
        settings["taskmaster"]["tags"]["master"]["description"],
        "Tasks for master context"
    );
    assert_eq!(
        settings["taskmaster"]["config"]["global"]["projectName"],
        "Rocket"
    );
    assert!(
        settings["taskmaster"]["config"]["models"]["research"]
            .get("apiKey")
            .is_none(),
        "{settings}"
    );

    // The same file again: nothing changes.
    let again = import(&[]).await.report();
    assert_eq!(again["project"]["created"], false);
    assert_eq!(counts(&again, "master"), [0, 0, 8, 0, 0]);
    assert_eq!(counts(&again, "feature-parachute"), [0, 0, 2, 0, 0]);

    // An agent runs task 2; the file renames task 3, drops task 4 and marks 2 done.
    let agent = store
        .create_agent(
            ctx,
            NewAgent::named(Name::parse("name", "worker").expect("name"), AgentKind::Ai),
        )
        .await
        .expect("agent");
    store
        .claim_task(ctx, id("master", "2"), agent.id, LeaseDuration::default())
        .await
        .expect("claim");
    let mut json: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
    let tasks = json["master"]["tasks"].as_array_mut().expect("tasks");
    tasks[1]["status"] = "done".into();
    tasks[2]["title"] = "Launch at dawn".into();
    tasks.remove(3);
    std::fs::write(&file, serde_json::to_string_pretty(&json).expect("json")).expect("write");

    let dry = import(&["--dry-run"]).await.report();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(counts(&dry, "master"), [0, 1, 5, 1, 1]);
    let unchanged = store.get_task(ctx, launch.id).await.expect("3");
    assert_eq!(
        unchanged.title.as_str(),
        "Launch",
        "a dry run writes nothing"
    );

    let second = import(&[]).await.report();
    assert_eq!(second["dry_run"], false);
    assert_eq!(counts(&second, "master"), [0, 1, 5, 1, 1]);
    assert_eq!(counts(&second, "feature-parachute"), [0, 0, 2, 0, 0]);
    let updated = entry(&second, "master", "updated", "3");
    assert_eq!(task_id(updated), launch.id, "updated in place");
    let skipped = entry(&second, "master", "skipped", "2");
    assert_eq!(skipped["status"], "running");
    assert!(
        skipped["reason"]
            .as_str()
            .expect("reason")
            .contains("running"),
        "{skipped}"
    );
    let missing = entry(&second, "master", "missing", "4");
    assert_eq!(task_id(missing), id("master", "4"));
    let renamed = store.get_task(ctx, launch.id).await.expect("3");
    assert_eq!(renamed.title.as_str(), "Launch at dawn");
    let still = store.get_task(ctx, id("master", "2")).await.expect("2");
    assert_eq!(still.status, TaskStatus::Running);
    // Task 4 is reported, not deleted.
    assert!(store.get_task(ctx, id("master", "4")).await.is_ok());
}

async fn a_legacy_file_and_a_single_tag_are_imported(db: TestDb) {
    let store: &dyn Store = db.store();
    // The bootstrap organization is the default one.
    let default = Fixture::create(store, "default", PASSWORD).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("old-style");
    copy_fixture("legacy", &root);
    let file = root.join("tasks/tasks.json");
    let report = orchestore(
        db.url(),
        &["import", "taskmaster", file.to_str().expect("path")],
    )
    .await
    .report();
    assert_eq!(report["layout"], "legacy");
    assert_eq!(
        report["config"],
        root.join(".taskmasterconfig").display().to_string()
    );
    assert_eq!(
        report["project"]["name"], "old-style",
        "no projectName: the project's directory"
    );
    assert_eq!(counts(&report, "master"), [4, 0, 0, 0, 0]);
    assert_eq!(entry(&report, "master", "created", "2")["status"], "queued");
    assert_eq!(
        entry(&report, "master", "created", "2.2")["status"],
        "blocked"
    );

    let tagged = fixtures().join("tagged/.taskmaster/tasks/tasks.json");
    let one_tag = orchestore(
        db.url(),
        &[
            "import",
            "taskmaster",
            tagged.to_str().expect("path"),
            "--tag",
            "feature-parachute",
            "--project",
            "Parachute",
        ],
    )
    .await
    .report();
    assert_eq!(one_tag["project"]["name"], "Parachute");
    let tags: Vec<&String> = one_tag["tags"].as_object().expect("tags").keys().collect();
    assert_eq!(tags, vec!["feature-parachute"]);
    assert_eq!(counts(&one_tag, "feature-parachute"), [2, 0, 0, 0, 0]);
    let projects = store
        .list_projects(&default.ctx, PageRequest::<ProjectSort>::default())
        .await
        .expect("projects");
    let mut names: Vec<&str> = projects.items.iter().map(|p| p.name.as_str()).collect();
    names.sort();
    assert_eq!(names, vec!["Parachute", "old-style"]);
}

async fn broken_files_are_located_and_nothing_is_written(db: TestDb) {
    let store: &dyn Store = db.store();
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let broken = fixtures().join("broken");
    let run = async |name: &str, extra: &[&str]| {
        let file = broken.join(name);
        let mut args = vec![
            "import",
            "taskmaster",
            file.to_str().expect("path"),
            "--organization",
            "acme",
            "--project",
            "Broken",
        ];
        args.extend_from_slice(extra);
        let run = orchestore(db.url(), &args).await;
        assert_eq!(run.status, 1, "{name}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        run.stderr
    };
    let syntax = run("syntax.json", &[]).await;
    assert!(syntax.contains("line 3, column"), "{syntax}");
    assert!(syntax.contains("syntax.json"), "{syntax}");
    let dangling = run("dangling.json", &[]).await;
    assert!(
        dangling.contains("tag master, task 2 ($.master.tasks[1].dependencies[1])"),
        "{dangling}"
    );
    assert!(dangling.contains("depends on 9"), "{dangling}");
    let cycle = run("cycle.json", &[]).await;
    assert!(
        cycle.contains("a dependency cycle: 1 → 3 → 2 → 1"),
        "{cycle}"
    );
    let shape = run("shape.json", &[]).await;
    assert!(shape.contains("$.master.tasks[0].dependencies"), "{shape}");
    let tagged = fixtures().join("tagged/.taskmaster/tasks/tasks.json");
    let no_tag = orchestore(
        db.url(),
        &[
            "import",
            "taskmaster",
            tagged.to_str().expect("path"),
            "--organization",
            "acme",
            "--tag",
            "nope",
        ],
    )
    .await;
    assert_eq!(no_tag.status, 1);
    assert!(
        no_tag.stderr.contains("no tag \"nope\""),
        "{}",
        no_tag.stderr
    );
    let nobody = orchestore(
        db.url(),
        &[
            "import",
            "taskmaster",
            tagged.to_str().expect("path"),
            "--organization",
            "nobody",
        ],
    )
    .await;
    assert_eq!(nobody.status, 1);
    assert!(
        nobody.stderr.contains("no organization"),
        "{}",
        nobody.stderr
    );

    let projects = store
        .list_projects(&acme.ctx, PageRequest::<ProjectSort>::default())
        .await
        .expect("projects");
    assert!(projects.items.is_empty(), "nothing written");
}

on_file_backends! {
    a_tagged_project_is_imported_then_updated_in_place,
    a_legacy_file_and_a_single_tag_are_imported,
    broken_files_are_located_and_nothing_is_written,
}
