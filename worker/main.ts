// The worker alone (docker-compose, scale-out): needs a Temporal cluster, PostgreSQL and the
// providers' URLs. Assembled by app/linkflow.ts (role `worker`).
import { runLinkflowProcess } from '../app/run';

runLinkflowProcess('worker');
