// baileys-shard/testing: every export of baileys-shard, on the testing build of the addon (it
// trusts the mock server and connects to this machine only), and the mock server itself.
import { ShardManager, ShardInfo, ShardError } from './index'
export * from './index'

/** The built-in mock WhatsApp server, running in a child process. */
export class MockServer {
  /**
   * Starts a mock server; `port: 0` picks a free port. With `tls: true` the port speaks TLS
   * (`wss://`, `https://`, the media CDN included) with a self-signed certificate for
   * `localhost` and `127.0.0.1`, given as `certificate` and `certPath`.
   */
  static start(options?: { port?: number; tls?: boolean; env?: Record<string, string>; startTimeoutMs?: number }): Promise<MockServer>
  /** WebSocket URL for `socketConfig.waWebSocketUrl`, e.g. `ws://127.0.0.1:41234/ws/chat` (`wss://` with `tls`). */
  readonly url: string
  readonly port: number
  /** Base URL of the admin HTTP API and media CDN (`https://` with `tls`). */
  readonly httpUrl: string
  /** With `tls`: the mock's self-signed certificate (PEM) a client must trust; else `null`. */
  readonly certificate: string | null
  /** With `tls`: a file holding `certificate` (e.g. for `NODE_EXTRA_CA_CERTS`), removed when the mock exits; else `null`. */
  readonly certPath: string | null
  /** Makes the mock phone scan a QR string; rejects if the mock refuses it. */
  scanQr(qr: string): Promise<void>
  /**
   * Makes the mock phone's user type a pairing code (from `login.update` `type: 'pairing'`) for
   * `phoneNumber`, linking the companion that asked for it. Rejects with the mock's message when
   * it refuses: wrong or malformed code (400), no companion waiting for that number (404),
   * code expired (410).
   */
  enterPairingCode(
    phoneNumber: string,
    code: string,
  ): Promise<{ jid: string; lid: string; phone: string; device: number; account: string }>
  /**
   * Gives account `phone` contacts, chats and messages; each device linking to it afterwards gets
   * them from the mock phone as history sync (`messaging-history.set`). `generate` makes an
   * account of that size; `historyFault: 'truncated'` spoils the next history chunk sent.
   */
  seedAccount(
    phone: string,
    state: {
      pushName?: string
      contacts?: { id: string; name?: string; notify?: string }[]
      chats?: { id: string; name?: string; unreadCount?: number; archived?: boolean; pinned?: number; muteEndTime?: number; conversationTimestamp?: number }[]
      messages?: ({ from: string; text: string; timestamp?: number; id?: string; chat?: string; fromMe?: boolean } | object)[]
      generate?: { contacts?: number; chats?: number; messagesPerChat?: number; groups?: number; seed?: number }
      historyFault?: 'truncated'
    },
  ): Promise<{ contacts: number; chats: number; messages: number }>
  /** `phoneAction` with a list of actions (kept for earlier tests). */
  phoneAppState(phone: string, actions: MockPhoneAction[]): Promise<{ collections: Record<string, number> }>
  /**
   * The mock phone of `phone` makes Baileys `ChatModification`s (each with the chat's `jid`,
   * as `sock.chatModify(mod, jid)` takes them), written as a real phone writes them; every
   * linked device is told to sync (`server_sync`).
   */
  phoneAction(phone: string, action: MockPhoneAction | MockPhoneAction[]): Promise<{ collections: Record<string, number> }>
  /**
   * The mock phone of account `fromPhone` calls `to` (a phone number or jid); every device of
   * `to` gets the offer. It rings until a device rejects/accepts it (the other devices then get
   * `terminate`), `endCall`, or — with `timeoutMs` — the server's `terminate reason="timeout"`.
   */
  ringCall(fromPhone: string, to: string, options?: { video?: boolean; timeoutMs?: number }): Promise<{ id: string; devices: number }>
  /** `ringCall` without a timeout. */
  placeCall(from: string, to: string, options?: { video?: boolean }): Promise<{ id: string; devices: number }>
  /** The caller hangs up a ringing call: every device of the callee gets `terminate`. Rejects if the call is over. */
  endCall(id: string): Promise<{ id: string; devices: number }>
  /** Delivers to every linked device of `to` a message from `from`'s phone that cannot be decrypted (random ciphertext). */
  sendUndecryptable(from: string, to: string): Promise<{ id: string; devices: number }>
  /** A placed call, its outcome, what the callee's devices answered (`reject`, ...) and what the server sent them. */
  callLog(id: string): Promise<{
    id: string
    from: string
    to: string
    video: boolean
    status: 'ringing' | 'rejected' | 'accepted' | 'timeout' | 'ended'
    answers: { device: string; action: string; attrs: Record<string, string> }[]
    sent: { device: string; action: 'offer' | 'terminate'; reason: string | null }[]
  }>
  /** Collections and orders of a business (by phone number), for `getCollections` and `getOrderDetails`. */
  seedBusinessCatalog(catalog: {
    phone: string
    collections?: { id: string; name: string; productIds: string[] }[]
    orders?: { id: string; token: string; items: { productId: string; quantity: number }[] }[]
  }): Promise<void>
  /** Makes an account (by phone number) a business with this profile, for `getBusinessProfile`. */
  setBusinessProfile(profile: {
    phone: string
    description?: string
    email?: string
    website?: string
    category?: string
    address?: string
    timezone?: string
    hours?: { day_of_week: string; mode: string; open_time?: number; close_time?: number }[]
  }): Promise<void>
  close(): Promise<void>
  // ---- fault injection ----
  /**
   * Closes connections abruptly (no `<stream:error>`, no close frame); without a target, all.
   * Resolves to how many were dropped.
   */
  dropConnections(target?: MockTarget): Promise<number>
  /**
   * Drops connections at random while traffic flows: each live `<message>` (`on: 'message'`,
   * default; the offline redelivery after a login is spared) or any frame (`on: 'frame'`) the
   * mock is about to send to a logged-in device kills that connection with `probability`.
   * `at: 'before'` loses the frame (redelivered from the offline queue), `'after'` writes it
   * first (the receipt is likely lost: redelivered, the client must deduplicate), `'random'`
   * (default) picks per drop. `on: 'interval'`: every `intervalMs` (default 1000) each
   * logged-in connection is dropped with `probability`, wherever its traffic is (no `at`).
   * `maxDrops` stops after that many. `probability: 0` clears it. Resolves to the rate in force.
   */
  setDropRate(options: {
    probability: number
    on?: 'message' | 'frame' | 'interval'
    at?: 'before' | 'after' | 'random'
    intervalMs?: number
    maxDrops?: number
  }): Promise<{
    probability: number
    on: 'message' | 'frame' | 'interval'
    at: 'before' | 'after' | 'random'
    intervalMs: number | null
    maxDrops: number | null
    /** Random drops done so far under this rate. */
    drops: number
  } | null>
  /**
   * Sends `<stream:error>` as WhatsApp does, then closes: 515 restart required, 440
   * `<conflict type="replaced"/>`, 401 `code="401"` + `<conflict type="device_removed"/>`, 503,
   * or any 400..599. Default target: every connection. Resolves to how many got it.
   */
  sendStreamError(code: number, target?: MockTarget): Promise<number>
  /** Answers the next `count` (default 1) logins, of `phone` or of anyone, with `<failure reason>`. */
  failNextLogins(options: { reason: number; count?: number; phone?: string }): Promise<void>
  /**
   * Answers the next `count` (default 1) pairing-code requests, of `phone` or of any number,
   * with an IQ error as WhatsApp does when it throttles a number: `code` 429 `rate-overlimit`
   * (default), 400 `bad-request`, 403 `forbidden`, 452 `feature-not-available`, 500
   * `internal-server-error`. Nothing is remembered for a refused request.
   */
  refusePairingCodes(options?: { count?: number; code?: 400 | 403 | 429 | 452 | 500; phone?: string }): Promise<void>
  /**
   * Spoils the next `count` (default 1) app-state answers carrying patches to the target
   * (default: every device): a mutation MAC, the patch MAC or the snapshot (LTHash) MAC is
   * wrong, or the answer names an unknown collection. Stored patches stay intact.
   */
  spoilAppState(options: {
    kind: 'mutationMac' | 'patchMac' | 'snapshotMac' | 'unknownCollection'
    count?: number
    phone?: string
    jid?: string
  }): Promise<{ appState: { kind: string; remaining: number; target: unknown }[] }>
  /** Holds frames to clients (all, or IQ responses only) for `ms`; `ms: 0` clears it. */
  delayResponses(options: { ms: number; only?: 'all' | 'iq' }): Promise<void>
  /**
   * Sends one malformed frame (`'node'`: not a binary node, default; `'cipher'`: fails Noise
   * authentication) to the target; closes that socket after it unless `close: false`.
   */
  sendMalformedFrame(target: MockTarget, options?: { kind?: 'node' | 'cipher'; close?: boolean }): Promise<number>
  /** Refuses WebSocket connections for `ms` (`'close'` the socket, default, or answer `'http503'`). */
  refuseConnections(ms: number, options?: { how?: 'close' | 'http503' }): Promise<void>
  /**
   * Drops every connection and refuses new ones for `downMs` (default 1000), keeping all state,
   * so clients come back with their sessions. Resolves to how many were dropped.
   */
  restart(options?: { downMs?: number }): Promise<number>
  /** Clears every fault in force (drop rate, delay, armed login failures and pairing-code refusals, refusal). */
  clearFaults(): Promise<void>
  /** Handshake, connection and fault counters since start or the last `resetStats()`. */
  stats(): Promise<MockStats>
  /** Zeroes the counters (the peak restarts from the handshakes in progress). */
  resetStats(): Promise<MockStats>
}

/** A message of a chat's last messages, for an action's `messageRange`. */
export interface MockLastMessage {
  key: { remoteJid: string; id: string; fromMe?: boolean; participant?: string }
  messageTimestamp: number
}

/** One action of the mock phone: Baileys' `ChatModification`, with the chat's `jid` where it has one. */
export type MockPhoneAction =
  | { jid: string; archive: boolean; lastMessages?: MockLastMessage[] }
  | { jid: string; pin: boolean }
  | { jid: string; mute: number | null }
  | { jid: string; markRead: boolean; lastMessages?: MockLastMessage[] }
  | { jid: string; clear: true; lastMessages?: MockLastMessage[] }
  | { jid: string; delete: true; lastMessages?: MockLastMessage[] }
  | { jid: string; star: { messages: { id: string; fromMe?: boolean }[]; star: boolean } }
  | { jid: string; deleteForMe: { key: { id: string; fromMe?: boolean }; timestamp?: number; deleteMedia?: boolean } }
  | { jid: string; contact: { fullName?: string; firstName?: string; lidJid?: string; pnJid?: string; username?: string; saveOnPrimaryAddressbook?: boolean } | null }
  | { contact: { id: string; fullName?: string; firstName?: string } | { id: string; remove: true } }
  | { pushNameSetting: string }
  | { addLabel: { id: string; name?: string; color?: number; deleted?: boolean; predefinedId?: number | string } }
  | { jid: string; addChatLabel: { labelId: string } }
  | { jid: string; removeChatLabel: { labelId: string } }
  | { jid: string; addMessageLabel: { labelId: string; messageId: string } }
  | { jid: string; removeMessageLabel: { labelId: string; messageId: string } }

/** Which connections a fault hits: a phone number (all its devices) or one device jid. */
export interface MockTarget {
  phone?: string
  /** e.g. `'15551234567:1@s.whatsapp.net'` or the device's LID jid */
  jid?: string
}

/** `GET /admin/stats` of the mock server. */
export interface MockStats {
  handshakes: {
    /** WebSocket connections that began a Noise handshake. */
    started: number
    /** Handshakes that ended in a device login (`<success>`). */
    completed: number
    /** Handshakes that ended in a registration (QR / pairing code). */
    registrations: number
    /** Handshakes that ended without a login (closed, refused, `<failure>`). */
    failed: number
    /** Handshakes in progress now (begun, login not answered yet). */
    current: number
    /** Highest `current` since start or the last reset. */
    peak: number
  }
  connections: { live: number; loggedIn: number; closing: number }
  faults: {
    dropped: number
    randomDrops: number
    streamErrors: number
    loginFailures: number
    pairingCodeRefusals: number
    /** App-state answers spoiled by `spoilAppState`. */
    appStateSpoiled: number
    malformedFrames: number
    refused: number
  }
}

declare const _default: { ShardManager: typeof ShardManager; ShardInfo: typeof ShardInfo; ShardError: typeof ShardError; MockServer: typeof MockServer }
export default _default
