// Oracle test for the reverse conversion (crates/shard-core/src/baileys_to_proto.rs, reached
// through src/js_to_bvalue.rs): Baileys-shaped objects → WhatsApp `Message` bytes, the path of
// `sendMessage(jid, content, { quoted })` and `{ forward }`. Each message is built with Baileys'
// own `proto.Message.fromObject`, handed to our `encodeProtoMessage` in every form a bot may
// hold it in, and our bytes — decoded by Baileys — must equal what Baileys' own encoding
// decodes to. (Bytes need not be identical: Baileys' schema is proto3 and packs repeated
// scalars, waproto's is proto2 and does not; both decode either form.)
const native = require('../lib/native')

let proto
let Long
let BufferJSON
beforeAll(async () => {
  ;({ proto, BufferJSON } = await import('baileys'))
  Long = (await import('long')).default
})

const key = { remoteJid: '123@s.whatsapp.net', fromMe: true, id: '3EB0C0FFEE' }

// Content as a bot or Baileys would write it. Functions: `Long` is only loaded in beforeAll.
const cases = {
  extendedTextWithQuoteAndMentions: () => ({
    extendedTextMessage: {
      text: 'hi @1 @2',
      contextInfo: {
        stanzaId: 'QUOTED1',
        participant: '456@s.whatsapp.net',
        quotedMessage: { extendedTextMessage: { text: 'the original', contextInfo: { mentionedJid: ['9@s.whatsapp.net'] } } },
        mentionedJid: ['1@s.whatsapp.net', '2@s.whatsapp.net'],
      },
    },
  }),
  imageWithBuffersAndLongLength: () => ({
    imageMessage: {
      url: 'https://mmg.whatsapp.net/v/t62/abc',
      mimetype: 'image/jpeg',
      caption: 'a caption',
      fileSha256: Buffer.alloc(32, 1),
      fileLength: Long.fromNumber(123456, true),
      height: 640,
      width: 480,
      mediaKey: new Uint8Array(32).fill(9),
      fileEncSha256: Buffer.alloc(32, 7),
      directPath: '/v/t62/abc',
      mediaKeyTimestamp: Long.fromNumber(1700000000),
      jpegThumbnail: Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
      viewOnce: false,
    },
  }),
  imageWithHugeLength: () => ({ imageMessage: { fileLength: Long.fromString('18446744073709551615', true) } }),
  reaction: () => ({ reactionMessage: { key, text: '👍', senderTimestampMs: Long.fromNumber(1700000000123) } }),
  reactionNumberTimestamp: () => ({ reactionMessage: { key: { ...key, participant: '7@s.whatsapp.net' }, text: '', senderTimestampMs: 1700000000123 } }),
  revokeByNumber: () => ({ protocolMessage: { key, type: 0 } }),
  ephemeralByName: () => ({ protocolMessage: { type: 'EPHEMERAL_SETTING', ephemeralExpiration: 86400 } }),
  editByName: () => ({ protocolMessage: { key, type: 'MESSAGE_EDIT', editedMessage: { conversation: 'edited' }, timestampMs: 1700000000555 } }),
  location: () => ({ locationMessage: { degreesLatitude: -23.5505, degreesLongitude: -46.6333, name: 'São Paulo', address: 'SP', jpegThumbnail: Buffer.from([1, 2]) } }),
  poll: () => ({
    pollCreationMessage: {
      name: 'Lunch?',
      options: [{ optionName: 'Pizza' }, { optionName: 'Sushi' }, { optionName: 'Tacos' }],
      selectableOptionsCount: 1,
    },
  }),
  repeatedScalars: () => ({
    conversation: 'x',
    messageContextInfo: { deviceListMetadata: { senderKeyHash: Buffer.from([1]), senderTimestamp: 1700000000, recipientKeyIndexes: [1, 2, 300] }, messageSecret: Buffer.alloc(32, 4) },
  }),
}

/**
 * Every form a bot may hand us the same message in. The JSON forms start from a DECODED
 * message (what a bot stores), whose bytes are Buffers: a Uint8Array's JSON is an object of
 * indexes that protobufjs itself cannot read back.
 */
function forms(content, decoded, { exactNumbers = true } = {}) {
  const instance = proto.Message.fromObject(content)
  const all = {
    literal: content,
    'protobufjs instance (fromObject)': instance,
    'protobufjs instance (create)': proto.Message.create(instance),
    'protobufjs instance (decode)': decoded,
    'toObject()': proto.Message.toObject(instance),
    'toObject({ longs: String, enums: String, bytes: String })': proto.Message.toObject(instance, { longs: String, enums: String, bytes: String }),
    'toObject({ longs: Number, defaults: true })': proto.Message.toObject(instance, { longs: Number, defaults: true }),
    'JSON with BufferJSON': JSON.parse(JSON.stringify(decoded, BufferJSON.replacer), BufferJSON.reviver),
    'JSON of toObject() without reviver': JSON.parse(JSON.stringify(proto.Message.toObject(decoded))),
    'instance.toJSON()': instance.toJSON(),
  }
  // Past 2^53 a number is not the integer any more (and protobufjs clamps it differently).
  if (!exactNumbers) delete all['toObject({ longs: Number, defaults: true })']
  return all
}

describe('encodeProtoMessage encodes what Baileys encodes', () => {
  for (const [name, make] of Object.entries(cases)) {
    test(name, () => {
      const content = make()
      const theirs = proto.Message.fromObject(content)
      const expected = proto.Message.decode(proto.Message.encode(theirs).finish())
      // Guard: Baileys' fromObject drops names it does not know, which would test nothing.
      expect(Object.keys(expected.toJSON()).sort()).toEqual(Object.keys(content).sort())
      for (const [form, input] of Object.entries(forms(content, expected, { exactNumbers: name !== 'imageWithHugeLength' }))) {
        let ours
        try {
          ours = native.encodeProtoMessage(input)
        } catch (err) {
          throw new Error(`${form}: ${err.message}`)
        }
        expect(Buffer.isBuffer(ours)).toBe(true)
        let decoded
        try {
          decoded = proto.Message.decode(ours)
        } catch (err) {
          throw new Error(`${form}: Baileys cannot decode our bytes: ${err.message}`)
        }
        // toJSON: a readable diff naming the form when they differ.
        expect({ form, message: decoded.toJSON() }).toEqual({ form, message: expected.toJSON() })
        expect(decoded).toEqual(expected)
      }
    })
  }

  test('a whole WAMessage: `quoted.message` and `forward.message` of a decoded WebMessageInfo', () => {
    const waMessage = proto.WebMessageInfo.decode(
      proto.WebMessageInfo.encode({ key, message: cases.imageWithBuffersAndLongLength(), messageTimestamp: 1700000000, pushName: 'Ann' }).finish(),
    )
    const ours = proto.Message.decode(native.encodeProtoMessage(waMessage.message))
    expect(ours).toEqual(proto.Message.decode(proto.Message.encode(waMessage.message).finish()))
  })

  test('BigInt and digit strings for 64-bit fields', () => {
    const ours = proto.Message.decode(native.encodeProtoMessage({ imageMessage: { fileLength: 18446744073709551615n, mediaKeyTimestamp: '-5' } }))
    expect(ours.imageMessage.fileLength.toString()).toBe('18446744073709551615')
    expect(ours.imageMessage.mediaKeyTimestamp.toString()).toBe('-5')
  })

  test('unknown keys, null, undefined and functions are ignored', () => {
    const input = { conversation: 'hi', notAField: { x: 1 }, imageMessage: null, videoMessage: undefined, toJSON() { return {} } }
    expect(proto.Message.decode(native.encodeProtoMessage(input)).toJSON()).toEqual({ conversation: 'hi' })
  })

  test('a wrong type throws an error naming the field path', () => {
    const bad = (content) => () => native.encodeProtoMessage(content)
    expect(bad({ extendedTextMessage: { contextInfo: { stanzaId: 5 } } })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'extendedTextMessage.contextInfo.stanzaId: expected string' }))
    expect(bad({ extendedTextMessage: { contextInfo: { mentionedJid: ['a', {}] } } })).toThrow('extendedTextMessage.contextInfo.mentionedJid[1]: expected string')
    expect(bad({ imageMessage: { fileLength: 'lots' } })).toThrow('imageMessage.fileLength: expected uint64')
    expect(bad({ imageMessage: { mediaKey: 12 } })).toThrow('imageMessage.mediaKey: expected bytes')
    expect(bad({ protocolMessage: { type: 'NOT_A_TYPE' } })).toThrow('protocolMessage.type: unknown enum value "NOT_A_TYPE"')
    expect(bad({ pollCreationMessage: { options: { optionName: 'x' } } })).toThrow('pollCreationMessage.options: expected array')
    expect(bad({ imageMessage: { fileLength: 2n ** 64n } })).toThrow(/BigInt out of the 64-bit range/)
  })

  test('deep or cyclic input is an error, not a crash', () => {
    const cyclic = { extendedTextMessage: { contextInfo: {} } }
    cyclic.extendedTextMessage.contextInfo.quotedMessage = cyclic
    expect(() => native.encodeProtoMessage(cyclic)).toThrow(/nested deeper than 100 levels/)
  })
})
