#!/usr/bin/env node
'use strict'
/**
 * What one thread wake-up costs on this machine: two threads hand a token back and forth
 * (Atomics.wait / Atomics.notify, i.e. futex sleep and wake), and the CPU time of the process
 * is divided by the number of hand-offs. Each message a paced receiver gets wakes at least two
 * sleeping threads (the engine's worker for the socket, Node's thread for the JS handler), so
 * twice this figure is a floor under "CPU per inbound message" that no code change removes.
 *
 *   node bench/wake-cost.js [rounds=20000]
 */
const { Worker, isMainThread, workerData } = require('node:worker_threads')

if (isMainThread) {
  const rounds = Number(process.argv[2] ?? 20000)
  const shared = new Int32Array(new SharedArrayBuffer(8))
  const worker = new Worker(__filename, { workerData: { shared, rounds } })
  worker.once('online', () => {
    const cpu0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < rounds; i++) {
      // Hand the token over (slot 0 = 1), then sleep until it comes back (slot 0 = 0).
      Atomics.store(shared, 0, 1)
      Atomics.notify(shared, 0)
      while (Atomics.load(shared, 0) === 1) Atomics.wait(shared, 0, 1)
    }
    const cpu = process.cpuUsage(cpu0)
    const wallUs = Number(process.hrtime.bigint() - t0) / 1000
    const handoffs = rounds * 2
    const cpuUs = (cpu.user + cpu.system) / handoffs
    console.log(JSON.stringify({
      handoffs,
      cpuUsPerWake: Number(cpuUs.toFixed(1)),
      systemShare: Number((cpu.system / (cpu.user + cpu.system)).toFixed(2)),
      wallUsPerWake: Number((wallUs / handoffs).toFixed(1)),
    }))
    worker.terminate()
  })
} else {
  const { shared, rounds } = workerData
  for (let i = 0; i < rounds; i++) {
    while (Atomics.load(shared, 0) === 0) Atomics.wait(shared, 0, 0)
    Atomics.store(shared, 0, 0)
    Atomics.notify(shared, 0)
  }
}
