import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../../platform/db/index.js';
import type { Database } from '../database.js';
import { pruneAnalytics } from './analytics.service.js';
import {
  batchRowsFactory,
  writeBatch,
  type WriterReply,
  type WriterRequest,
  type WriterThreadData,
} from './analytics.writer.js';

/** Worker thread entry of threadAnalyticsWriter (analytics.writer.ts): one connection, one request at a time. */
const port = parentPort;
if (!port) throw new Error('analytics.writer.thread.ts must run in a worker thread');
const data = workerData as WriterThreadData;
const handle = openDatabase<Database>(data.databaseUrl);
const toRows = batchRowsFactory(data.nodeId);

let queue: Promise<void> = Promise.resolve();

async function handleRequest(message: WriterRequest): Promise<void> {
  let reply: WriterReply;
  try {
    if (message.op === 'write') await writeBatch(handle.db, message.deltas, toRows(message.records));
    else if (message.op === 'prune') await pruneAnalytics(handle.db, message.options);
    else if (message.op === 'close') await handle.close();
    reply = { id: message.id, ok: true };
  } catch (error) {
    reply = { id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  port?.postMessage(reply);
  if (message.op === 'close') port?.close();
}

port.on('message', (message: WriterRequest) => {
  queue = queue.then(() => handleRequest(message));
});
