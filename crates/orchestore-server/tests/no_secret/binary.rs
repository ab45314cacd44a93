//! The `orchestore` binary: `print-config`, the start-up log at TRACE, and the message `serve`
//! and `status` die with when the database cannot be opened.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use orchestore_testkit::TestDb;
use reqwest::Url;

use crate::Secrets;

const JWT_SECRET: &str = "a jwt key that is 32 bytes or longer";
const ADMIN_PASSWORD: &str = "the admin password";
const METRICS_TOKEN: &str = "the metrics scrape token";

/// The binary with only the environment given here.
fn orchestore() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_orchestore"));
    command
        .env_clear()
        .env("ORCHESTORE__AUTH__JWT_SECRET", JWT_SECRET)
        .env("ORCHESTORE__BOOTSTRAP__ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("ORCHESTORE__METRICS__TOKEN", METRICS_TOKEN);
    command
}

fn secrets(db_password: &str) -> Secrets {
    let mut secrets = Secrets::default();
    secrets.add("the JWT key", JWT_SECRET);
    secrets.add("the admin's password", ADMIN_PASSWORD);
    secrets.add("the metrics token", METRICS_TOKEN);
    secrets.add("the database password", db_password);
    secrets
}

#[test]
fn print_config_shows_no_secret() {
    for (url, db_password) in [
        (
            "postgres://app:url-db-pass@db:5432/orchestore?sslmode=require",
            "url-db-pass",
        ),
        (
            "postgres://app@db/orchestore?sslpassword=ssl-key-pass",
            "ssl-key-pass",
        ),
        (
            "postgres://app@db/orchestore?password=query-db-pass",
            "query-db-pass",
        ),
        (
            "host=db user=app password='key value pass' dbname=orchestore",
            "key value pass",
        ),
    ] {
        for format in ["toml", "json"] {
            let output = orchestore()
                .args(["print-config", "--format", format])
                .env("DATABASE_URL", url)
                .output()
                .expect("print-config runs");
            assert!(output.status.success(), "{output:?}");
            let printed = String::from_utf8_lossy(&output.stdout);
            secrets(db_password).assert_absent("print-config", &printed);
            secrets(db_password).assert_absent(
                "print-config's stderr",
                &String::from_utf8_lossy(&output.stderr),
            );
            assert!(
                printed.contains("***") && printed.contains("<redacted>"),
                "{printed}"
            );
        }
    }
}

#[test]
fn a_database_that_cannot_be_opened_is_reported_without_its_secrets() {
    for (url, db_password) in [
        // Nothing listens on port 1: the connection is refused.
        (
            "postgres://app:fatal-pass-1@127.0.0.1:1/orchestore",
            "fatal-pass-1",
        ),
        (
            "host=127.0.0.1 port=1 user=app password='fatal pass 2' dbname=orchestore",
            "fatal pass 2",
        ),
        // Not read at all: an unclosed quote, a `/` in the password, a parameter sqlx would log.
        (
            "host=127.0.0.1 user=app password='fatal pass 3",
            "fatal pass 3",
        ),
        (
            "postgres://app:fatal-pass/4@127.0.0.1/orchestore",
            "fatal-pass/4",
        ),
        (
            "postgres://app@127.0.0.1:1/orchestore?sslpassword=fatal-pass-5",
            "fatal-pass-5",
        ),
    ] {
        for command in ["serve", "status"] {
            let output = orchestore()
                .arg(command)
                .env("DATABASE_URL", url)
                .env("RUST_LOG", "trace")
                .env("ORCHESTORE__SERVER__PORT", "0")
                .env("ORCHESTORE__DATABASE__CONNECT_TIMEOUT", "2s")
                .env("ORCHESTORE__DATABASE__ACQUIRE_TIMEOUT", "2s")
                .output()
                .expect("the command runs");
            assert!(
                !output.status.success(),
                "{command}: {url} cannot be opened"
            );
            let stderr = String::from_utf8_lossy(&output.stderr);
            let fatal = stderr
                .lines()
                .find(|line| line.starts_with("orchestore: "))
                .unwrap_or_else(|| panic!("no fatal error line in {stderr}"));
            assert!(fatal.contains("database"), "{fatal}");
            secrets(db_password).assert_absent(&format!("{command}'s stderr"), &stderr);
            secrets(db_password).assert_absent(
                &format!("{command}'s stdout"),
                &String::from_utf8_lossy(&output.stdout),
            );
            // Nor a piece of it: `fatal-pass/4` is not `fatal-pass` and `4`.
            assert!(!stderr.contains("fatal-pass"), "{fatal}");
        }
    }
}

/// `orchestore serve` at TRACE on PostgreSQL with a password in the URL, then in a key=value
/// string: stopped once it listens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_no_secret_at_trace() {
    let Some(db) = TestDb::postgres_unmigrated().await else {
        return;
    };
    let mut url = Url::parse(db.url()).expect("a URL");
    if url.password().is_some() {
        // Its password is not ours to leave out of the key=value string below.
        return;
    }
    url.set_password(Some("serve-db-pass"))
        .expect("the URL takes a password");
    let key_value = format!(
        "host={} port={} user={} password='serve db pass' dbname={}",
        url.host_str().unwrap_or_default(),
        url.port().unwrap_or(5432),
        url.username(),
        url.path().trim_start_matches('/'),
    );
    for (database, db_password) in [
        (url.to_string(), "serve-db-pass"),
        (key_value, "serve db pass"),
    ] {
        let log = tokio::task::spawn_blocking(move || serve_until_listening(&database))
            .await
            .expect("the server ran");
        assert!(log.contains("connecting to the database"), "{log}");
        assert!(log.contains("***"), "the URL is shown redacted: {log}");
        secrets(db_password).assert_absent("serve's log", &log);
    }
}

/// Runs `serve` on `database` until it logs that it listens; returns its stderr.
fn serve_until_listening(database: &str) -> String {
    let mut child = orchestore()
        .arg("serve")
        .env("DATABASE_URL", database)
        .env("RUST_LOG", "trace")
        .env("ORCHESTORE__SERVER__PORT", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = String::new();
    let mut listening = false;
    while let Ok(line) = received.recv_timeout(Duration::from_secs(120)) {
        log.push_str(&line);
        log.push('\n');
        if line.contains("listening") {
            listening = true;
            break;
        }
    }
    child.kill().expect("the server is stopped");
    child.wait().expect("the server has ended");
    // What it wrote while it stopped.
    while let Ok(line) = received.recv_timeout(Duration::from_secs(5)) {
        log.push_str(&line);
        log.push('\n');
    }
    assert!(listening, "the server never listened: {log}");
    log
}
