//! The `ceiling-setup` mode: prepares the database for a pgbench ceiling and writes its script.

use clap::ValueEnum;

use crate::sql::CeilingKind;
use crate::{Bench, Fixture, Result, sql};

impl Bench {
    pub(crate) async fn ceiling_setup(&self) -> Result<()> {
        let a = &self.args;
        let kind = a.kind.ok_or("ceiling-setup needs --kind")?;
        let store = self.store(2).await?;
        sql::reset(&self.db).await?;
        let mut fx = Fixture::create(&store, a.c).await?;
        sql::rekey_agents(&self.db, &mut fx).await?;
        let ceiling = sql::ceiling(kind, &fx, a.n, a.c, a.batch.max(1), a.bulk.max(1));
        if !matches!(kind, CeilingKind::EnqueueOne | CeilingKind::EnqueueBulk) {
            sql::seed_queued(&self.db, &fx, u64::from(a.n)).await?;
        }
        sql::settle(&self.db).await?;
        std::fs::create_dir_all(&a.out)?;
        let name = kind
            .to_possible_value()
            .expect("a kind")
            .get_name()
            .to_owned();
        let path = a.out.join(format!("ceiling-{name}.sql"));
        std::fs::write(&path, &ceiling.script)?;
        println!(
            "CLIENTS={} TXNS={} JOBS_PER_TXN={} SCRIPT={}",
            ceiling.clients,
            ceiling.transactions_per_client,
            ceiling.jobs_per_transaction,
            path.display()
        );
        Ok(())
    }
}
