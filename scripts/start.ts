// `npm start`: Linkflow in one command. Brings up the Temporal dev server (SQLite under .data/,
// Web UI), the four provider sandboxes, the store, the worker and the API; Ctrl-C stops them all.
// What starts, in which order, and how it stops: app/linkflow.ts. Logs are readable lines unless
// LINKFLOW_LOG_FORMAT says otherwise.
import { runLinkflowProcess } from '../app/run';

process.env.LINKFLOW_LOG_FORMAT ??= 'pretty';
runLinkflowProcess('embedded');
