import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { packRecords, RawRecordBuffer, type PackedRecords } from './analytics.buffer.js';
import type { RequestRecord } from './analytics.types.js';

function rec(i: number): RequestRecord {
  return {
    at: 1_000 + i,
    apiId: 'api_a',
    keyId: i % 2 === 0 ? 'key_1' : '',
    developerId: 'dev_1',
    method: 'GET',
    path: `/p/${i}`,
    status: i % 3 === 0 ? 429 : 200,
    code: i % 3 === 0 ? 'RATE_LIMITED' : null,
    latencyMs: i / 10,
    upstreamLatencyMs: i / 20,
    bytesIn: i,
    bytesOut: 2 * i,
  };
}

/** The `at` of every record in a segment, in order. */
function ats(segment: PackedRecords | null): number[] {
  if (!segment) return [];
  return Array.from({ length: segment.count }, (_, i) => segment.numbers[i * 6] as number);
}

void describe('RawRecordBuffer', () => {
  void test('packs every field, and hands out whole segments oldest first, the last one trimmed', () => {
    const buffer = new RawRecordBuffer(100, 4);
    for (let i = 0; i < 10; i++) assert.equal(buffer.push(rec(i)), true);
    assert.equal(buffer.size, 10);
    const first = buffer.take();
    assert.deepEqual(first, packRecords([rec(0), rec(1), rec(2), rec(3)]));
    assert.deepEqual(ats(buffer.take()), [1004, 1005, 1006, 1007]);
    const last = buffer.take();
    assert.deepEqual(last, packRecords([rec(8), rec(9)]));
    assert.equal(last?.numbers.length, 12);
    assert.equal(buffer.take(), null);
    assert.equal(buffer.size, 0);
    // A taken partial segment is closed: new records start a new one.
    buffer.push(rec(20));
    assert.deepEqual(ats(buffer.take()), [1020]);
  });

  void test('refuses records beyond its capacity', () => {
    const buffer = new RawRecordBuffer(5, 4);
    const accepted = Array.from({ length: 8 }, (_, i) => buffer.push(rec(i)));
    assert.deepEqual(accepted, [true, true, true, true, true, false, false, false]);
    assert.equal(buffer.size, 5);
  });

  void test('a restored segment goes first; over capacity the newest records are dropped', () => {
    const buffer = new RawRecordBuffer(6, 4);
    for (let i = 0; i < 6; i++) buffer.push(rec(i));
    const failed = buffer.take();
    assert.deepEqual(ats(failed), [1000, 1001, 1002, 1003]);
    for (let i = 6; i < 10; i++) buffer.push(rec(i));
    assert.equal(buffer.size, 6);
    assert.equal(buffer.restore(failed as PackedRecords), 4);
    assert.equal(buffer.size, 6);
    assert.deepEqual(ats(buffer.take()), [1000, 1001, 1002, 1003]);
    assert.deepEqual(ats(buffer.take()), [1004, 1005]);
    assert.equal(buffer.take(), null);
    // New records start a segment of their own after the trimmed one.
    buffer.push(rec(30));
    assert.deepEqual(ats(buffer.take()), [1030]);
  });
});
