//! The built `orchestore` binary, run as an operator runs it: on a database URL, with nothing of
//! the test's environment (`ORCHESTORE_*`, `RUST_LOG`) but what a test passes.

use serde_json::Value;

/// What one run of the binary gave: its exit status, standard output and standard error.
#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The line of `stdout` about organization `org`.
    pub fn line(&self, org: impl std::fmt::Display) -> &str {
        let org = org.to_string();
        self.stdout
            .lines()
            .find(|line| line.starts_with(&org))
            .unwrap_or_else(|| panic!("no line for {org} in:\n{}", self.stdout))
    }

    /// `stdout` as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }

    /// The JSON report of a run that succeeded.
    pub fn report(&self) -> Value {
        assert_eq!(self.status, 0, "{}", self.stderr);
        self.json()
    }
}

/// `orchestore ARGS` on `url`.
pub async fn orchestore(url: &str, args: &[&str]) -> Run {
    orchestore_with(url, args, &[]).await
}

/// `orchestore ARGS` on `url` with the environment variables `env` besides `DATABASE_URL`.
pub async fn orchestore_with(url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let url = url.to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_orchestore"))
            .args(&args)
            .env_clear()
            .env("DATABASE_URL", url)
            .envs(env)
            .output()
            .expect("orchestore runs")
    })
    .await
    .expect("the run ends");
    Run {
        status: output.status.code().expect("an exit status"),
        stdout: String::from_utf8(output.stdout).expect("utf-8"),
        stderr: String::from_utf8(output.stderr).expect("utf-8"),
    }
}
