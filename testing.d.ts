/** The built-in mock WhatsApp server, running in a child process. */
export class MockServer {
  /** Starts a mock server; `port: 0` picks a free port. */
  static start(options?: { port?: number; env?: Record<string, string>; startTimeoutMs?: number }): Promise<MockServer>
  /** WebSocket URL for `socketConfig.waWebSocketUrl`, e.g. `ws://127.0.0.1:41234/ws/chat`. */
  readonly url: string
  readonly port: number
  /** Base URL of the admin HTTP API. */
  readonly httpUrl: string
  /** Makes the mock phone scan a QR string; rejects if the mock refuses it. */
  scanQr(qr: string): Promise<void>
  close(): Promise<void>
}
