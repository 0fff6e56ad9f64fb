import { parentPort } from 'node:worker_threads';
import { importDocument, type ImportInput } from './docs.import.js';

/** Worker thread entry: runs the import pipeline off the main thread (see docs.importer.ts). */
const port = parentPort;
if (!port) throw new Error('docs.worker.ts must run in a worker thread');

port.on('message', (message: { id: number; input: ImportInput }) => {
  importDocument(message.input).then(
    (outcome) => port.postMessage({ id: message.id, outcome }),
    (error: unknown) =>
      port.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
