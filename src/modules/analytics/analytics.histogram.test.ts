import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addHistogram,
  bucketIndex,
  emptyHistogram,
  HISTOGRAM_SIZE,
  histogramPercentile,
  LATENCY_BOUNDS_MS,
  parseHistogram,
} from './analytics.histogram.js';

void test('bucketIndex puts each latency in the first bucket whose bound holds it', () => {
  assert.equal(bucketIndex(0), 0);
  assert.equal(bucketIndex(1), 0);
  assert.equal(bucketIndex(2), 1);
  assert.equal(bucketIndex(3), 2);
  assert.equal(bucketIndex(10_000), LATENCY_BOUNDS_MS.length - 1);
  assert.equal(bucketIndex(10_001), LATENCY_BOUNDS_MS.length);
  assert.equal(HISTOGRAM_SIZE, LATENCY_BOUNDS_MS.length + 1);
});

void test('percentiles are bucket upper bounds, capped at the largest latency seen', () => {
  const h = emptyHistogram();
  const add = (ms: number, n: number) => {
    h[bucketIndex(ms)]! += n;
  };
  add(3, 90);
  add(40, 5);
  add(700, 5);
  assert.equal(histogramPercentile(h, 50, 700), 5);
  assert.equal(histogramPercentile(h, 95, 700), 50);
  assert.equal(histogramPercentile(h, 99, 700), 700);
  assert.equal(histogramPercentile(h, 99), 1000);
  assert.equal(histogramPercentile(emptyHistogram(), 50, null), null);
  const slow = emptyHistogram();
  slow[LATENCY_BOUNDS_MS.length] = 1;
  assert.equal(histogramPercentile(slow, 50, 42_000), 42_000);
});

void test('stored histograms merge and tolerate damage', () => {
  assert.deepEqual(parseHistogram('not json'), emptyHistogram());
  assert.deepEqual(parseHistogram('[]'), emptyHistogram());
  const merged = addHistogram(parseHistogram('[1,2]'), [1, 1, 1]);
  assert.deepEqual(merged.slice(0, 4), [2, 3, 1, 0]);
  assert.equal(merged.length, HISTOGRAM_SIZE);
});
