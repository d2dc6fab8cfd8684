#!/usr/bin/env node
// The node side of tests/integration/test_bullmq.py: BullMQ and ioredis, used as any application
// uses them (no retries or workarounds of our own), against one Redis-protocol server.
//
//   node bullmq_run.js produce PORT QUEUE COUNT CHUNK   adds COUNT jobs {i} with addBulk, CHUNK a call
//   node bullmq_run.js work PORT QUEUE NAME CONCURRENCY runs a Worker until SIGTERM
//   node bullmq_run.js check PORT QUEUE COUNT           prints the queue's counts and every job's hash
//
// Every line printed on stdout is one JSON object; the python test reads them. Diagnostics (errors
// BullMQ or ioredis report) go to stdout too, as {"ev":"error",...}, so the test can show them.
'use strict';
const { Queue, Worker } = require('bullmq');
const IORedis = require('ioredis');

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const now = () => Date.now();

// The job options every job is added with: BullMQ may retry a failed job twice more, after 200 ms
// then 400 ms (exponential backoff), and drops nothing from the completed/failed sets.
const JOB_OPTS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 200 },
  removeOnComplete: false,
  removeOnFail: false,
};

function connection(port) {
  // maxRetriesPerRequest: null is what BullMQ requires for a Worker's connection.
  return { host: '127.0.0.1', port, maxRetriesPerRequest: null };
}

async function produce(port, queueName, count, chunk) {
  const queue = new Queue(queueName, { connection: connection(port) });
  queue.on('error', (e) => emit({ ev: 'error', who: 'queue', msg: String(e && e.message) }));
  const t0 = now();
  let added = 0;
  for (let start = 1; start <= count; start += chunk) {
    const jobs = [];
    for (let i = start; i < start + chunk && i <= count; i++) {
      jobs.push({ name: 'job', data: { i }, opts: JOB_OPTS });
    }
    const got = await queue.addBulk(jobs);
    added += got.length;
    emit({ ev: 'added', n: got.length, first: got[0].id, last: got[got.length - 1].id, total: added });
  }
  emit({ ev: 'produced', total: added, ms: now() - t0 });
  await queue.close();
}

async function work(port, queueName, name, concurrency) {
  const worker = new Worker(
    queueName,
    async (job) => {
      // Recorded before anything else: every start of the processor, with BullMQ's counters as the
      // worker saw them when it took the job.
      emit({ ev: 'start', id: job.id, atm: job.attemptsMade, ats: job.attemptsStarted,
             stc: job.stalledCounter, w: name });
      return job.data.i * 2;
    },
    {
      connection: connection(port),
      concurrency,
      // A job whose lock is lost (its worker's reply never came, for instance during a failover)
      // is found by the stalled check and put back to wait; allow a few such stalls before BullMQ
      // fails the job, and check often enough that the test does not wait 30 s for it.
      lockDuration: 10000,
      stalledInterval: 5000,
      maxStalledCount: 3,
      drainDelay: 1,
    },
  );
  worker.on('completed', (job, rv) => emit({ ev: 'done', id: job.id, rv, w: name }));
  worker.on('failed', (job, err) =>
    emit({ ev: 'failed', id: job && job.id, atm: job && job.attemptsMade, msg: String(err && err.message), w: name }));
  worker.on('error', (e) => emit({ ev: 'error', who: name, msg: String(e && e.message) }));
  worker.on('stalled', (id) => emit({ ev: 'stalled', id, w: name }));
  await worker.waitUntilReady();
  emit({ ev: 'ready', w: name });
  let closing = false;
  const stop = async () => {
    if (closing) return;
    closing = true;
    try {
      await Promise.race([worker.close(), new Promise((r) => setTimeout(r, 5000))]);
    } finally {
      emit({ ev: 'closed', w: name });
      process.exit(0);
    }
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function check(port, queueName, count) {
  const queue = new Queue(queueName, { connection: connection(port) });
  const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed',
                                           'prioritized', 'waiting-children', 'paused');
  emit({ ev: 'counts', counts });
  // The job hashes and the completed set, read with a plain ioredis client.
  const redis = new IORedis(connection(port));
  const prefix = 'bull:' + queueName + ':';
  const completed = await redis.zrange(prefix + 'completed', 0, -1);
  emit({ ev: 'completed_ids', ids: completed });
  const fields = ['atm', 'ats', 'stc', 'finishedOn', 'returnvalue', 'failedReason'];
  for (let start = 1; start <= count; start += 500) {
    const pipe = redis.pipeline();
    for (let id = start; id < start + 500 && id <= count; id++) pipe.hmget(prefix + id, ...fields);
    const replies = await pipe.exec();
    const jobs = replies.map(([err, vals], k) => {
      if (err) return { id: String(start + k), err: String(err.message) };
      const o = { id: String(start + k) };
      fields.forEach((f, j) => { o[f] = vals[j]; });
      return o;
    });
    emit({ ev: 'jobs', jobs });
  }
  // Anything beyond COUNT (a job added twice would get an id above it).
  emit({ ev: 'max_id', id: await redis.get(prefix + 'id') });
  redis.disconnect();
  await queue.close();
}

async function main() {
  const [cmd, port, queueName, ...rest] = process.argv.slice(2);
  const p = Number(port);
  if (cmd === 'produce') await produce(p, queueName, Number(rest[0]), Number(rest[1]));
  else if (cmd === 'work') await work(p, queueName, rest[0], Number(rest[1]));
  else if (cmd === 'check') await check(p, queueName, Number(rest[0]));
  else throw new Error('usage: produce|work|check PORT QUEUE ...');
}

main().then(
  () => { if (process.argv[2] !== 'work') process.exit(0); },
  (e) => { emit({ ev: 'fatal', msg: String(e && e.stack) }); process.exit(1); },
);
