use sea_orm_migration::prelude::*;

/// `orchestore-migrate up|down|status|fresh|...` against `DATABASE_URL`, for CI.
#[tokio::main]
async fn main() {
    cli::run_cli(migration::Migrator).await;
}
