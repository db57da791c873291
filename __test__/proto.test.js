'use strict'
// `proto` and `WAMessageStubType` from this package against Baileys 6.7.21's: every enum value
// Baileys has is there with the same number, and messages encoded on one side decode on the
// other to the same content.
const ours = require('..')

let baileys

beforeAll(async () => {
  baileys = await import('baileys')
})

/** Every enum under Baileys' protobufjs namespace: `[path, { NAME: number }]`. */
function baileysEnums(node, path = [], out = [], seen = new Set()) {
  if (!node || seen.has(node)) return out
  seen.add(node)
  for (const [key, value] of Object.entries(node)) {
    if (!/^[A-Z]/.test(key) || value == null) continue
    const values = typeof value === 'object' ? Object.entries(value) : []
    if (values.length && values.every(([, v]) => typeof v === 'number')) out.push([[...path, key].join('.'), value])
    else if (typeof value === 'function' || typeof value === 'object') baileysEnums(value, [...path, key], out, seen)
  }
  return out
}

/** Enums of Baileys 6.7.21's schema that the engine's newer schema dropped or moved (its AI
 * and bot-feedback types; the poll type and history-sync type under other names). */
const ABSENT = [
  'AIRichResponseMessage.AIRichResponseCodeMetadata.AIRichResponseCodeHighlightType', 'AIRichResponseMessage.AIRichResponseContentItemsMetadata.ContentType',
  'AIRichResponseMessage.AIRichResponseDynamicMetadata.AIRichResponseDynamicMetadataType', 'AIRichResponseMessage.AIRichResponseInlineImageMetadata.AIRichResponseImageAlignment',
  'AIRichResponseMessage.AIRichResponseMessageType', 'AIRichResponseMessage.AIRichResponseSubMessageType', 'BotModeSelectionMetadata.BotUserSelectionMode',
  'Message.BotFeedbackMessage.BotFeedbackKind', 'Message.BotFeedbackMessage.BotFeedbackKindMultipleNegative', 'Message.BotFeedbackMessage.BotFeedbackKindMultiplePositive',
  'Message.BotFeedbackMessage.ReportKind', 'Message.HistorySyncNotification.HistorySyncType', 'Message.PollCreationMessage.PollType',
]

test('every enum of Baileys\' proto is in ours, value for value (but the few the newer schema dropped)', () => {
  const enums = baileysEnums(baileys.proto)
  expect(enums.length).toBeGreaterThan(100)
  const wrong = []
  const absent = []
  for (const [path, values] of enums) {
    const mine = path.split('.').reduce((n, p) => n?.[p], ours.proto)
    if (!mine || !Object.keys(values).some((name) => name in mine)) {
      absent.push(path)
      continue
    }
    for (const [name, number] of Object.entries(values)) if (mine[name] !== number) wrong.push(`${path}.${name}`)
  }
  expect(wrong).toEqual([])
  expect(absent.sort()).toEqual([...ABSENT].sort())
  expect(ours.proto.Message.ProtocolMessage.Type.REVOKE).toBe(0)
  expect(ours.proto.Message.ProtocolMessage.Type[14]).toBe('MESSAGE_EDIT')
  expect(ours.proto.HistorySync.HistorySyncType.ON_DEMAND).toBe(baileys.proto.HistorySync.HistorySyncType.ON_DEMAND)
  expect({ ...ours.WAMessageStubType }).toMatchObject({ ...baileys.WAMessageStubType })
})

test('encode and decode agree with Baileys\' in both directions', () => {
  const samples = [
    { conversation: 'hi' },
    { extendedTextMessage: { text: 'a @1', contextInfo: { mentionedJid: ['1@s.whatsapp.net'], stanzaId: 'X', isForwarded: true, forwardingScore: 2 } } },
    { protocolMessage: { key: { remoteJid: '1@s.whatsapp.net', fromMe: true, id: 'ID' }, type: 'REVOKE' } },
    { pollCreationMessageV3: { name: 'Q', options: [{ optionName: 'a' }, { optionName: 'b' }], selectableOptionsCount: 1 } },
  ]
  for (const sample of samples) {
    const theirBytes = baileys.proto.Message.encode(baileys.proto.Message.fromObject(sample)).finish()
    const ourBytes = ours.proto.Message.encode(sample).finish()
    const arrays = { longs: Number, arrays: true, enums: Number }
    expect(baileys.proto.Message.toObject(baileys.proto.Message.decode(ourBytes), arrays)).toEqual(baileys.proto.Message.toObject(baileys.proto.Message.decode(theirBytes), arrays))
    expect(ours.proto.Message.decode(theirBytes)).toEqual(ours.proto.Message.fromObject(sample))
  }
  const nested = ours.proto.Message.ImageMessage.decode(baileys.proto.Message.ImageMessage.encode({ caption: 'c', width: 3 }).finish())
  expect(nested).toMatchObject({ caption: 'c', width: 3 })
  expect(ours.proto.Message.verify({ conversation: 5 })).toMatch(/conversation/)
  expect(ours.proto.Message.verify({ conversation: 'ok' })).toBeNull()
  expect(() => ours.proto.Message.decode('not bytes')).toThrow(/Buffer/)
})
