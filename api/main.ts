// The API alone (docker-compose, scale-out): needs a Temporal cluster and the store. Assembled by
// app/linkflow.ts (role `api`).
import { runLinkflowProcess } from '../app/run';

runLinkflowProcess('api');
