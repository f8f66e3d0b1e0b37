#!/usr/bin/env node
// One js-libp2p gossipsub node: the reference network of scripts/bench_gossip.py.
//
// Stack (the combination known to work on Node 20): libp2p 2.10, TCP, Noise,
// yamux, identify, @chainsafe/libp2p-gossipsub 14.1.2 with StrictSign and content-addressed
// message ids (sha256 of the data, as kiez's nodes use) plus a fastMsgIdFn so duplicate copies
// are dropped before their signature is checked again.
//
// Gossip parameters follow kiez's (node/p2p/config.py) so that both networks do the same work:
// mesh degree, Dlo, Dhi, gossip window and history as given (--D --Dlo --Dhi --mcache-gossip
// --mcache-length; scripts/gossipbench/js.py passes GossipConfig's), 1 s heartbeat, flood publishing
// off (py-libp2p sends a publish to its mesh only) and /meshsub/1.1.0 only (kiez does not offer
// 1.2). --js-defaults keeps js-libp2p's own defaults instead (D=6, flood publish, 1.2/IDONTWANT).
//
// Control: one command per line on stdin; answers are JSON lines on stdout.
//   dial <multiaddr>     connect to a peer                      -> {"dialed": addr} or {"dial_error": ...}
//   pub <n> <author>     publish message n (--size bytes)       -> nothing (errors: {"pub_error": ...})
//   stats                                                       -> {"stats": {peers, mesh, topic_peers}}
//   flush                write pending receipts                 -> {"flushed": count}
//   quit                 flush, stop, exit                      -> {"bye": true}
// At start it prints {"ready": {"peer_id", "addrs"}}.
//
// Receipts: every message this node receives (not its own) appends one line to --receipts:
//   <n> <author> <sent_ms> <received_ms>
// where sent_ms is the publisher's Date.now() carried in the message and received_ms this node's
// Date.now() when gossipsub delivered it. All nodes run on one machine and share its clock.
import './polyfill.mjs'

import { createHash } from 'node:crypto'
import { appendFileSync, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'

import { gossipsub } from '@chainsafe/libp2p-gossipsub'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const { values: opts } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    topic: { type: 'string', default: 'kiez-bench' },
    size: { type: 'string', default: '1024' },
    receipts: { type: 'string' },
    D: { type: 'string', default: '4' },
    Dlo: { type: 'string', default: '3' },
    Dhi: { type: 'string', default: '6' },
    'mcache-gossip': { type: 'string', default: '3' },
    'mcache-length': { type: 'string', default: '5' },
    'js-defaults': { type: 'boolean', default: false }
  }
})
const SIZE = Number(opts.size)
const TOPIC = opts.topic

function say (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n')
}

const sha256 = (data) => new Uint8Array(createHash('sha256').update(data).digest())
const parity = {
  D: Number(opts.D),
  Dlo: Number(opts.Dlo),
  Dhi: Number(opts.Dhi),
  Dout: Math.min(2, Math.floor(Number(opts.D) / 2)), // the spec wants Dout < Dlo and Dout <= D/2
  Dscore: 2,
  heartbeatInterval: 1000,
  mcacheGossip: Number(opts['mcache-gossip']),
  mcacheLength: Number(opts['mcache-length']),
  seenTTL: 120_000,
  floodPublish: false
}
const gossipOptions = {
  globalSignaturePolicy: 'StrictSign',
  emitSelf: false,
  allowPublishToZeroTopicPeers: true,
  // Content-addressed ids, as kiez's; the fast id lets js drop a duplicate copy before it checks
  // its signature again (without it ~25 % of js's CPU goes there).
  msgIdFn: (msg) => sha256(msg.data),
  fastMsgIdFn: (rpcMsg) => createHash('sha1').update(rpcMsg.data ?? new Uint8Array()).digest('base64'),
  ...(opts['js-defaults'] ? {} : parity)
}

const pubsubFactory = gossipsub(gossipOptions)
const node = await createLibp2p({
  addresses: { listen: [`/ip4/${opts.host}/tcp/${opts.port}`] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    pubsub: (components) => {
      const router = pubsubFactory(components)
      // kiez offers /meshsub/1.1.0 only; the registrar picks the protocols up at start.
      if (!opts['js-defaults']) router.multicodecs = ['/meshsub/1.1.0']
      return router
    }
  }
})
const pubsub = node.services.pubsub

let pending = []
let written = 0
function flush () {
  if (pending.length > 0 && opts.receipts) {
    appendFileSync(opts.receipts, pending.join(''))
    written += pending.length
  }
  pending = []
  return written
}
if (opts.receipts) writeFileSync(opts.receipts, '')
setInterval(flush, 200).unref()

const decoder = new TextDecoder()
pubsub.addEventListener('message', (event) => {
  const received = Date.now()
  const msg = event.detail
  if (msg.topic !== TOPIC) return
  // Header: "<n> <author> <sent_ms>;" then padding.
  const head = decoder.decode(msg.data.subarray(0, 48))
  const end = head.indexOf(';')
  if (end < 0) return
  pending.push(`${head.slice(0, end)} ${received}\n`)
})

const encoder = new TextEncoder()
function message (n, author) {
  const data = new Uint8Array(SIZE).fill(0x2e) // '.'
  const head = encoder.encode(`${n} ${author} ${Date.now()};`)
  data.set(head, 0)
  return data
}

pubsub.subscribe(TOPIC)
say({ ready: { peer_id: node.peerId.toString(), addrs: node.getMultiaddrs().map(String) } })

async function handle (line) {
  const [cmd, ...args] = line.trim().split(/\s+/)
  if (cmd === 'dial') {
    try {
      await node.dial(multiaddr(args[0]))
      say({ dialed: args[0] })
    } catch (err) {
      say({ dial_error: String(err?.message ?? err), addr: args[0] })
    }
  } else if (cmd === 'pub') {
    try {
      await pubsub.publish(TOPIC, message(Number(args[0]), Number(args[1])))
    } catch (err) {
      say({ pub_error: String(err?.message ?? err), n: Number(args[0]) })
    }
  } else if (cmd === 'stats') {
    say({
      stats: {
        peers: node.getPeers().length,
        mesh: pubsub.getMeshPeers(TOPIC).length,
        topic_peers: pubsub.getSubscribers(TOPIC).length
      }
    })
  } else if (cmd === 'flush') {
    say({ flushed: flush() })
  } else if (cmd === 'quit') {
    await shutdown()
  } else if (cmd) {
    say({ error: `unknown command ${cmd}` })
  }
}

let stopping = false
async function shutdown () {
  if (stopping) return
  stopping = true
  flush()
  await node.stop()
  say({ bye: true })
  process.exit(0)
}
process.on('SIGTERM', () => { shutdown() })
process.on('SIGINT', () => { shutdown() })

const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => { handle(line) })
lines.on('close', () => { shutdown() })
