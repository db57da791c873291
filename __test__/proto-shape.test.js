// Oracle test for the message conversion (crates/shard-core/src/proto_to_baileys.rs): each
// message is built and encoded with Baileys' own `proto`, decoded by our addon, and compared
// with what Baileys' `proto.Message.decode` gives for the same bytes — the protobufjs instance
// Baileys puts in its events. The comparison covers the SET OF OWN KEYS at every level (unset
// fields absent, repeated fields present as arrays as protobufjs constructors make them), with
// two normalisations: Baileys' `Long`s compare as numbers (we give plain numbers), and bytes
// compare by content (we give Buffers; Baileys gives Uint8Array/Buffer).
const native = require('../lib/native')

let proto
let Long
beforeAll(async () => {
  ;({ proto } = await import('baileys'))
  Long = (await import('long')).default
})

const isLong = (v) => v != null && typeof v === 'object' && typeof v.low === 'number' && typeof v.high === 'number' && typeof v.unsigned === 'boolean'

/** Compares our value with Baileys'; returns a list of differences (paths), empty when equal. */
function diff(ours, theirs, path = 'message', out = []) {
  if (isLong(theirs)) {
    if (ours !== theirs.toNumber()) out.push(`${path}: ${ours} !== Long ${theirs.toString()}`)
    return out
  }
  if (theirs instanceof Uint8Array) {
    if (!Buffer.isBuffer(ours)) out.push(`${path}: expected a Buffer, got ${typeof ours}`)
    else if (!Buffer.from(theirs).equals(ours)) out.push(`${path}: bytes differ`)
    return out
  }
  if (Array.isArray(theirs)) {
    if (!Array.isArray(ours)) return out.push(`${path}: expected an array`), out
    if (ours.length !== theirs.length) out.push(`${path}: length ${ours.length} !== ${theirs.length}`)
    theirs.forEach((t, i) => diff(ours[i], t, `${path}[${i}]`, out))
    return out
  }
  if (theirs !== null && typeof theirs === 'object') {
    if (ours === null || typeof ours !== 'object' || Array.isArray(ours) || Buffer.isBuffer(ours)) {
      return out.push(`${path}: expected an object`), out
    }
    const theirKeys = Object.keys(theirs)
    for (const key of theirKeys) {
      if (!Object.prototype.hasOwnProperty.call(ours, key)) out.push(`${path}.${key}: missing`)
      else diff(ours[key], theirs[key], `${path}.${key}`, out)
    }
    for (const key of Object.keys(ours)) {
      if (theirKeys.includes(key)) continue
      // An empty collection is expected exactly where Baileys' instance has one (protobufjs
      // keeps those on the prototype, so they are not own keys of `theirs`); a collection only
      // the newer schema has, a null, a set value — anything else extra — is a failure.
      const emptyCollection = (Array.isArray(ours[key]) && ours[key].length === 0) || (ours[key] && typeof ours[key] === 'object' && !Buffer.isBuffer(ours[key]) && Object.keys(ours[key]).length === 0)
      if (!(emptyCollection && key in theirs)) out.push(`${path}.${key}: unexpected ${JSON.stringify(ours[key])}`)
    }
    return out
  }
  if (ours !== theirs) out.push(`${path}: ${JSON.stringify(ours)} !== ${JSON.stringify(theirs)}`)
  return out
}

function roundTrip(content) {
  const bytes = proto.Message.encode(proto.Message.fromObject(content)).finish()
  const ours = native.decodeProtoMessage(Buffer.from(bytes))
  const theirs = proto.Message.decode(bytes)
  return { ours, theirs }
}

const key = { remoteJid: '123@s.whatsapp.net', fromMe: true, id: '3EB0C0FFEE' }

const cases = {
  conversation: { conversation: 'hello' },
  extendedTextWithQuote: {
    extendedTextMessage: {
      text: 'hi @1 @2',
      contextInfo: {
        stanzaId: 'QUOTED1',
        participant: '456@s.whatsapp.net',
        quotedMessage: { conversation: 'the original' },
        mentionedJid: ['1@s.whatsapp.net', '2@s.whatsapp.net'],
      },
    },
  },
  reaction: { reactionMessage: { key, text: '👍', senderTimestampMs: 1700000000123 } },
  revoke: { protocolMessage: { key, type: 0 } },
  image: {
    imageMessage: {
      url: 'https://mmg.whatsapp.net/v/t62/abc',
      mimetype: 'image/jpeg',
      caption: 'a caption',
      fileSha256: Buffer.alloc(32, 1),
      fileLength: 123456,
      height: 640,
      width: 480,
      mediaKey: Buffer.alloc(32, 9),
      fileEncSha256: Buffer.alloc(32, 7),
      directPath: '/v/t62/abc',
      mediaKeyTimestamp: 1700000000,
      jpegThumbnail: Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
    },
  },
  location: { locationMessage: { degreesLatitude: -23.5505, degreesLongitude: -46.6333, name: 'São Paulo', address: 'SP' } },
  poll: {
    pollCreationMessage: {
      name: 'Lunch?',
      options: [{ optionName: 'Pizza' }, { optionName: 'Sushi' }, { optionName: 'Tacos' }],
      selectableOptionsCount: 1,
    },
  },
  contactsArray: {
    contactsArrayMessage: {
      displayName: '2 contacts',
      contacts: [
        { displayName: 'Ann', vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:Ann\nEND:VCARD' },
        { displayName: 'Bob', vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:Bob\nEND:VCARD' },
      ],
    },
  },
  // ButtonsMessage.header is a oneof (text | documentMessage | imageMessage ...): its set
  // member must appear as a plain field of the parent, and nothing named `header`.
  buttonsWithOneofHeader: {
    buttonsMessage: { text: 'header text', contentText: 'body', buttons: [{ buttonId: 'b1', buttonText: { displayText: 'One' }, type: 1 }], headerType: 2 },
  },
  // Wrappers, media kinds and nested bytes/uint64 that real traffic carries.
  viewOnceImage: { viewOnceMessageV2: { message: { imageMessage: { mimetype: 'image/jpeg', viewOnce: true, mediaKey: Buffer.alloc(32, 3) } } } },
  audioPtt: { audioMessage: { mimetype: 'audio/ogg; codecs=opus', ptt: true, seconds: 7, waveform: Buffer.from([1, 2, 3]) } },
  documentWithCaption: { documentWithCaptionMessage: { message: { documentMessage: { fileName: 'a.pdf', pageCount: 3, fileLength: 99 } } } },
  pollVote: { pollUpdateMessage: { pollCreationMessageKey: key, vote: { encPayload: Buffer.from([5, 6]), encIv: Buffer.from([7]) }, senderTimestampMs: 1700000000999 } },
  withMessageContextInfo: {
    conversation: 'x',
    messageContextInfo: { deviceListMetadata: { senderKeyHash: Buffer.from([1]), senderTimestamp: 1700000000, recipientKeyIndexes: [1, 2, 3] }, deviceListMetadataVersion: 2, messageSecret: Buffer.alloc(32, 4) },
  },
  edit: { protocolMessage: { key, type: 14, editedMessage: { conversation: 'edited' }, timestampMs: 1700000000555 } },
}

describe('decodeProtoMessage gives what Baileys decodes', () => {
  for (const [name, content] of Object.entries(cases)) {
    test(name, () => {
      const { ours, theirs } = roundTrip(content)
      // Guard: Baileys' fromObject drops names it does not know, which would test nothing.
      expect(Object.keys(theirs).sort()).toEqual(Object.keys(content).sort())
      expect(diff(ours, theirs)).toEqual([])
    })
  }

  test('the comparison itself catches a missing, an extra and a wrong field', () => {
    const { ours, theirs } = roundTrip(cases.extendedTextWithQuote)
    const broken = structuredClone(ours)
    delete broken.extendedTextMessage.contextInfo.stanzaId
    broken.extendedTextMessage.contextInfo.remoteJid = null
    broken.extendedTextMessage.text = 'other'
    expect(diff(broken, theirs)).toEqual([
      'message.extendedTextMessage.text: "other" !== "hi @1 @2"',
      'message.extendedTextMessage.contextInfo.stanzaId: missing',
      'message.extendedTextMessage.contextInfo.remoteJid: unexpected null',
    ])
  })

  test('shape details: Buffers, numbers, enums, absent unset fields', () => {
    const { ours } = roundTrip({ ...cases.image, ...cases.reaction, ...cases.revoke })
    expect(Buffer.isBuffer(ours.imageMessage.mediaKey)).toBe(true)
    expect(ours.imageMessage.fileLength).toBe(123456)
    expect(ours.reactionMessage.senderTimestampMs).toBe(1700000000123)
    expect(ours.protocolMessage.type).toBe(proto.Message.ProtocolMessage.Type.REVOKE)
    expect('caption' in ours.reactionMessage).toBe(false)
    expect('conversation' in ours).toBe(false)
  })

  test('64-bit values past 2^53 become BigInt, exactly', () => {
    const big = Long.fromString('9007199254740993') // 2^53 + 1
    const bytes = proto.Message.encode({ reactionMessage: { senderTimestampMs: big } }).finish()
    expect(native.decodeProtoMessage(Buffer.from(bytes)).reactionMessage.senderTimestampMs).toBe(9007199254740993n)
  })

  test('malformed bytes throw instead of crashing', () => {
    expect(() => native.decodeProtoMessage(Buffer.from([0x0a, 0x05, 0x61]))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('unexpected end of input') }))
  })
})

test('the list of Baileys\' collections the decoder uses is generated from Baileys\' own WAProto.proto', () => {
  const { execFileSync } = require('node:child_process')
  const script = require('node:path').join(__dirname, '..', 'scripts', 'baileys-schema.js')
  expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow()
})
