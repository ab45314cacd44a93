//! The contract suite on every backend: `sqlite::*`, `postgres::*` (with
//! `ORCHESTORE_TEST_PG_URL`) and `dyn_store::*` (through `Arc<dyn Store>`).

orchestore_testkit::contract_suite!();
