/// <reference types="node" />
import { EventEmitter } from 'node:events'

/** Baileys' socket options this package honours; other keys are accepted and ignored. */
export interface SocketConfig {
  /** Server URL (default `wss://web.whatsapp.com/ws/chat`). */
  waWebSocketUrl?: string
  /** WhatsApp Web version `[2, 3000, n]` announced at login. */
  version?: [number, number, number]
  /** `[os, browser, osVersion]`, shown in the phone's linked devices. */
  browser?: [string, string, string]
  qrTimeout?: number
  connectTimeoutMs?: number
  keepAliveIntervalMs?: number
  markOnlineOnConnect?: boolean
  syncFullHistory?: boolean
  [option: string]: unknown
}

export interface ShardConfig {
  /** Folder holding one session folder per shard (default `./sessions`). */
  session?: string
  /** Options for every shard's socket (Baileys names). */
  socketConfig?: SocketConfig
}

export interface ShardOptions {
  /** Shard id, a plain folder name (default `shard-N`). */
  id?: string
  /** Phone number for pairing-code login, digits only. */
  phoneNumber?: string
  /** Socket options for this shard, over the manager's `socketConfig`. */
  socket?: SocketConfig
}

export type ShardErrorCode =
  | 'CREATE_FAILED'
  | 'RECREATE_FAILED'
  | 'CREDS_SAVE_FAILED'
  | 'PAIRING_FAILED'
  | 'SHARD_NOT_FOUND'
  | 'CONNECT_FAILED'
  | 'STOP_FAILED'
  | 'LOAD_FAILED'
  | 'NO_SESSIONS'
  | 'NOT_CONNECTED'
  | 'INVALID_ARGUMENT'
  | 'UNKNOWN'

export class ShardError extends Error {
  constructor(message: string, code?: ShardErrorCode)
  name: 'ShardError'
  code: ShardErrorCode
}

export type ShardStatus = 'initializing' | 'connected' | 'disconnected' | 'logged_out' | 'stopped'

export class ShardInfo {
  constructor(fields: { id: string; index: number; total: number; phoneNumber?: string | null; status: ShardStatus; updatedAt?: number | Date })
  id: string
  /** 1-based position in creation order, always current. */
  index: number
  /** Number of shards in the manager, always current. */
  total: number
  phoneNumber: string | null
  status: ShardStatus
  updatedAt: Date
  update(fields: Partial<Omit<ShardInfo, 'update'>>): this
}

export interface SessionStatus {
  exists: boolean
  /** The folder proves a paired device (`me` and `account` present and well-formed). */
  registered: boolean
  /** It can log in as it is. */
  valid: boolean
  reason?: string
}

/** Baileys' `Contact` subset used for `sock.user`. */
export interface ShardUser {
  id: string
  name?: string
  lid?: string
}

/** Baileys' Boom error in `lastDisconnect.error`. */
export interface DisconnectError extends Error {
  isBoom: true
  output: { statusCode: number; payload: { statusCode: number; error: string; message: string }; headers: Record<string, string> }
  data: null
}

/** Baileys' `ConnectionState` update. */
export interface ConnectionUpdate {
  connection?: 'connecting' | 'open' | 'close'
  lastDisconnect?: { error: DisconnectError; date: Date }
  qr?: string
  isNewLogin?: boolean
}

/** Baileys `BufferJSON` form of the credentials: Buffers where Baileys has Buffers. */
export interface KeyPair {
  private: Buffer
  public: Buffer
}

/** The changed part of Baileys' `AuthenticationCreds`. */
export interface AuthenticationCredsUpdate {
  noiseKey?: KeyPair
  pairingEphemeralKeyPair?: KeyPair
  signedIdentityKey?: KeyPair
  signedPreKey?: { keyPair: KeyPair; signature: Buffer; keyId: number }
  registrationId?: number
  advSecretKey?: string
  me?: ShardUser
  account?: { details: string; accountSignatureKey: string; accountSignature: string; deviceSignature: string }
  signalIdentities?: { identifier: { name: string; deviceId: number }; identifierKey: Buffer }[]
  nextPreKeyId?: number
  firstUnuploadedPreKeyId?: number
  registered?: boolean
  routingInfo?: Buffer
  [field: string]: unknown
}

/** Raw Baileys events of one socket (`sock.ev`). */
export interface ShardSocketEventMap {
  'connection.update': [ConnectionUpdate]
  'creds.update': [AuthenticationCredsUpdate]
  'messages.upsert': [MessagesUpsert]
  'messages.update': [WAMessageUpdate[]]
  'messages.reaction': [MessageReaction[]]
  'message-receipt.update': [MessageUserReceiptUpdate[]]
  'presence.update': [PresenceUpdate]
}

export interface ShardSocketEvents extends EventEmitter {
  on<E extends keyof ShardSocketEventMap>(event: E, listener: (...args: ShardSocketEventMap[E]) => void): this
  once<E extends keyof ShardSocketEventMap>(event: E, listener: (...args: ShardSocketEventMap[E]) => void): this
  off<E extends keyof ShardSocketEventMap>(event: E, listener: (...args: ShardSocketEventMap[E]) => void): this
}

/** Baileys' `proto.IMessageKey`. */
export interface WAMessageKey {
  remoteJid?: string | null
  fromMe?: boolean | null
  id?: string | null
  participant?: string | null
}

/**
 * Baileys' `proto.IMessage`: protobuf field names in lowerCamelCase, bytes as Buffers, enums
 * as numbers, unset fields absent. 64-bit integers are plain numbers (BigInt past 2^53)
 * where Baileys gives `Long` objects.
 */
export interface WAMessageContent {
  conversation?: string
  extendedTextMessage?: { text?: string; contextInfo?: WAContextInfo; [field: string]: unknown }
  [messageType: string]: unknown
}

export interface WAContextInfo {
  stanzaId?: string
  participant?: string
  quotedMessage?: WAMessageContent
  mentionedJid?: string[]
  [field: string]: unknown
}

/** Baileys' `WAMessage` (`proto.IWebMessageInfo`). */
export interface WAMessage {
  key: WAMessageKey
  message?: WAMessageContent | null
  messageTimestamp?: number | bigint
  pushName?: string
  broadcast?: boolean
  /** `proto.WebMessageInfo.Status`: 1 PENDING, 2 SERVER_ACK, 3 DELIVERY_ACK, 4 READ, 5 PLAYED. */
  status?: number
  participant?: string
}

/** Baileys' `AnyMessageContent`, the kinds this build sends. */
export type AnyMessageContent =
  | { text: string; mentions?: string[]; edit?: WAMessageKey }
  | { react: { text: string; key: WAMessageKey } }
  | { delete: WAMessageKey }
  | { location: { degreesLatitude: number; degreesLongitude: number; name?: string; address?: string }; mentions?: string[] }
  | { contacts: { displayName?: string; contacts: { displayName?: string; vcard: string }[] } }
  | { poll: { name: string; values: string[]; selectableCount?: number; messageSecret?: Uint8Array } }
  | { forward: WAMessage; force?: boolean }

export interface MiscMessageGenerationOptions {
  /** Use this id instead of a generated one. */
  messageId?: string
  /** The message this one replies to. */
  quoted?: WAMessage
}

/** Baileys' `WAMessageUpdate`: receipts (`status`), edits and revokes. */
export interface WAMessageUpdate {
  key: WAMessageKey
  update: {
    status?: number
    message?: WAMessageContent | { editedMessage: { message: WAMessageContent } } | null
    messageStubType?: number
    messageTimestamp?: number | bigint
    key?: WAMessageKey
  }
}

/** Baileys' `messages.reaction` item: `key` is the reacted-to message, from our point of view. */
export interface MessageReaction {
  key: WAMessageKey
  reaction: { key: WAMessageKey; text?: string; senderTimestampMs?: number | bigint; [field: string]: unknown }
}

/** Baileys' `MessageUserReceiptUpdate` (group receipts). */
export interface MessageUserReceiptUpdate {
  key: WAMessageKey
  receipt: { userJid: string; receiptTimestamp?: number; readTimestamp?: number }
}

export type WAPresence = 'unavailable' | 'available' | 'composing' | 'recording' | 'paused'

/** Baileys' `presence.update` payload. */
export interface PresenceUpdate {
  id: string
  presences: { [participant: string]: { lastKnownPresence: WAPresence; lastSeen?: number } }
}

/** Baileys' `messages.upsert` payload. */
export interface MessagesUpsert {
  messages: WAMessage[]
  type: 'notify' | 'append'
}

/** A Baileys-shaped socket for one shard. */
export interface ShardSocket {
  readonly shardId: string
  readonly type: 'md'
  /** The logged-in account, or undefined before pairing. */
  readonly user: ShardUser | undefined
  readonly ev: ShardSocketEvents
  /**
   * Sends a message. Resolves to the sent `WAMessage` (`status` 1 = PENDING), which is also
   * emitted as `messages.upsert` with `type: 'append'`. A malformed jid or an unsupported
   * content shape rejects with `INVALID_ARGUMENT`; a shard that is not connected with `NOT_CONNECTED`.
   */
  sendMessage(jid: string, content: AnyMessageContent, options?: MiscMessageGenerationOptions): Promise<WAMessage>
  /**
   * Sends read receipts for received messages (keys of your own messages are skipped; group
   * keys carry the sender in `participant`). The sender gets `messages.update` with `status` 4
   * (READ). A malformed key rejects with `INVALID_ARGUMENT`; a shard that is not connected with
   * `NOT_CONNECTED`.
   */
  readMessages(keys: WAMessageKey[]): Promise<void>
  /**
   * `'available'` / `'unavailable'` set the account's presence; `'composing'`, `'recording'`
   * and `'paused'` are chat states sent to `jid` (required for them). An unknown type or a
   * malformed jid rejects with `INVALID_ARGUMENT`.
   */
  sendPresenceUpdate(type: WAPresence, jid?: string): Promise<void>
  /** Subscribes to a contact's presence; it then arrives as `presence.update`. */
  presenceSubscribe(jid: string): Promise<void>
  /**
   * Which phone numbers (`'+6281…'`, `'6281…'` or `'6281…@s.whatsapp.net'`) are on WhatsApp.
   * As in Baileys 6.7.21, only the registered ones are in the result (`exists` is always true);
   * a number that is not on WhatsApp is simply absent.
   */
  onWhatsApp(...phoneNumbers: string[]): Promise<{ jid: string; exists: boolean; lid?: string }[]>
  /** Closes the connection for good (the shard is stopped). */
  end(error?: Error): Promise<void>
  /** Logs this device out at WhatsApp and stops the shard; the session folder is kept. */
  logout(): Promise<void>
}

export type LoginUpdate =
  | { shardId: string; state: 'connecting'; type: 'qr'; code: string }
  | { shardId: string; state: 'connecting'; type: 'pairing'; code: string }
  | { shardId: string; state: 'connected' }
  | { shardId: string; state: 'disconnected'; reason: string; statusCode: number }
  | { shardId: string; state: 'logged_out'; reason: string; statusCode: number }
  | { shardId: string; state: 'creds_saved' }

export interface ForwardedEvent<T> {
  shardId: string
  sock: ShardSocket
  data: T
}

export interface ShardManagerEventMap {
  'login.update': [LoginUpdate]
  'shard.error': [{ shardId: string | null; error: ShardError }]
  'creds.update': [ForwardedEvent<AuthenticationCredsUpdate>]
  'messages.upsert': [ForwardedEvent<MessagesUpsert>]
  'messages.update': [ForwardedEvent<WAMessageUpdate[]>]
  'messages.reaction': [ForwardedEvent<MessageReaction[]>]
  'message-receipt.update': [ForwardedEvent<MessageUserReceiptUpdate[]>]
  'presence.update': [ForwardedEvent<PresenceUpdate>]
}

export interface ShardEvents extends EventEmitter {
  on<E extends keyof ShardManagerEventMap>(event: E, listener: (...args: ShardManagerEventMap[E]) => void): this
  once<E extends keyof ShardManagerEventMap>(event: E, listener: (...args: ShardManagerEventMap[E]) => void): this
  off<E extends keyof ShardManagerEventMap>(event: E, listener: (...args: ShardManagerEventMap[E]) => void): this
}

export class ShardManager extends EventEmitter {
  constructor(config?: ShardConfig)
  /** Absolute path of the sessions folder. */
  readonly sessionDir: string
  /** Creates (or returns the running) shard and starts logging it in; resolves at once. */
  createShard(options?: ShardOptions): Promise<{ id: string; sock: ShardSocket }>
  /**
   * Starts every saved session (one after another, `staggerMs` apart, default 100). Resolves to
   * the ids started; unusable folders are reported as `LOAD_FAILED`, none at all as `NO_SESSIONS`.
   */
  loadAllShards(options?: { staggerMs?: number }): Promise<string[]>
  /** Restarts a shard on its folder; `clearSession` moves the folder to `.cleared/` and starts fresh. */
  recreateShard(options: { id: string; clearSession?: boolean; forceRecreate?: boolean }): Promise<{ id: string; sock: ShardSocket }>
  /** Returns a running shard as it is, or starts it again on its folder (`CONNECT_FAILED` on failure). */
  connect(id: string): Promise<{ id: string; sock: ShardSocket }>
  /** Moves a folder whose creds.json is unreadable to `<session>/.corrupt/`; registered sessions are never touched. */
  validateAndCleanSession(sessionDirectory: string): Promise<void>
  /** `validateAndCleanSession` over every saved session that is not running (also run by the constructor). */
  cleanupCorruptSessions(): Promise<void>
  /** Stops a shard for good. Unknown id: rejects with `SHARD_NOT_FOUND`. */
  stopShard(id: string): Promise<boolean>
  /** Stops every shard and flushes their credentials. */
  close(): Promise<void>
  socket(id: string): ShardSocket | undefined
  /** The same emitter of that shard's events on every call, or null for an unknown id. */
  shard(id: string): ShardEvents | null
  getShardInfo(id: string): ShardInfo | null
  getAllShardInfo(): ShardInfo[]
  getSessionInfo(id: string): Promise<SessionStatus>
  checkSessionStatus(sessionDirectory: string): Promise<SessionStatus>

  on<E extends keyof ShardManagerEventMap>(event: E, listener: (...args: ShardManagerEventMap[E]) => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
  once<E extends keyof ShardManagerEventMap>(event: E, listener: (...args: ShardManagerEventMap[E]) => void): this
  once(event: string | symbol, listener: (...args: any[]) => void): this
}

export declare const DisconnectReason: {
  readonly connectionClosed: 428
  readonly connectionLost: 408
  readonly connectionReplaced: 440
  readonly timedOut: 408
  readonly loggedOut: 401
  readonly badSession: 500
  readonly restartRequired: 515
  readonly multideviceMismatch: 411
  readonly forbidden: 403
  readonly unavailableService: 503
}

export declare const BufferJSON: {
  replacer(key: string, value: unknown): unknown
  reviver(key: string, value: unknown): unknown
}

declare const _default: { ShardManager: typeof ShardManager; ShardInfo: typeof ShardInfo; ShardError: typeof ShardError }
export default _default
