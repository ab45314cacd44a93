-- The `tasks` table the peers of bench/http.sh use (the actix-web + sqlx stand-in and
-- pgbench), with 100k rows. Re-running drops and recreates it.
drop table if exists tasks;
create table tasks (
  id uuid primary key default gen_random_uuid(),
  title text,
  status text,
  priority int,
  payload jsonb,
  created_at timestamptz default now()
);
insert into tasks (title, status, priority, payload)
select 'task ' || i,
       (array['queued', 'running', 'done'])[1 + i % 3],
       i % 10,
       jsonb_build_object('i', i, 'kind', 'seed', 'tags', jsonb_build_array('a', 'b'))
from generate_series(1, 100000) as i;
vacuum analyze tasks;
