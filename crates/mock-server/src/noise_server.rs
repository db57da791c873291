//! The responder (server) side of WhatsApp's Noise handshake.
//!
//! Clients speak `Noise_XX_25519_AESGCM_SHA256` on a first connect and, once they have cached
//! our certificate chain, `Noise_IK` on later connects. We accept IK when the client's cached
//! static key is ours; when it is not (for example the mock restarted with a fresh key) we answer
//! the way WhatsApp does, with an XX-fallback server hello, so the client recovers in the same
//! round trip. Only the Noise primitives come from `wacore-noise`; the responder state machine is
//! ours, so a bug in the client's state machine cannot hide itself behind shared code.

use wacore_binary::consts::{NOISE_PATTERN_IK, NOISE_PATTERN_XX, NOISE_PATTERN_XXFALLBACK, WA_CONN_HEADER};
use wacore_libsignal::protocol::KeyPair;
use wacore_noise::{NoiseCipher, NoiseHandshake};
use waproto::buffa::{Message as _, MessageField};
use waproto::whatsapp as wa;

/// Why a handshake could not complete. Each one closes only the connection it happened on.
#[derive(Debug)]
pub enum NoiseServerError {
    Malformed(String),
    Crypto(String),
}

impl std::fmt::Display for NoiseServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Malformed(m) => write!(f, "malformed handshake message: {m}"),
            Self::Crypto(m) => write!(f, "handshake crypto failed: {m}"),
        }
    }
}

impl std::error::Error for NoiseServerError {}

type Result<T> = std::result::Result<T, NoiseServerError>;

fn crypto<E: std::fmt::Display>(e: E) -> NoiseServerError {
    NoiseServerError::Crypto(e.to_string())
}

fn key32(bytes: &[u8], what: &str) -> Result<[u8; 32]> {
    bytes.try_into().map_err(|_| NoiseServerError::Malformed(format!("{what} is {} bytes, not 32", bytes.len())))
}

fn public_bytes(kp: &KeyPair) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(kp.public_key.public_key_bytes());
    out
}

/// The server's long-lived Noise identity: a static key pair and the certificate chain whose leaf
/// names it. Generated once per server; clients cache the leaf key and use it for IK.
pub struct ServerIdentity {
    static_kp: KeyPair,
    cert_chain: Vec<u8>,
}

impl ServerIdentity {
    pub fn generate() -> Self {
        let static_kp = KeyPair::generate(&mut rand::rng());
        let cert_chain = wacore_noise::test_util::build_cert_chain_bytes(&public_bytes(&static_kp));
        Self { static_kp, cert_chain }
    }

    pub fn static_public(&self) -> [u8; 32] {
        public_bytes(&self.static_kp)
    }

    fn static_private(&self) -> &[u8] {
        self.static_kp.private_key.serialize()
    }
}

/// Transport keys after a completed handshake, seen from the server.
pub struct TransportCiphers {
    /// Encrypts server → client frames.
    pub send: NoiseCipher,
    /// Decrypts client → server frames.
    pub recv: NoiseCipher,
}

/// A completed handshake: keys plus what the client told us about itself.
pub struct Established {
    pub ciphers: TransportCiphers,
    /// The client's static Noise public key (its `noiseKey`), authenticated by the handshake.
    pub client_static: [u8; 32],
    /// The decrypted `ClientPayload` protobuf.
    pub client_payload: Vec<u8>,
    /// Which pattern finished: "XX", "IK" or "XXfallback" (for logs and tests).
    pub pattern: &'static str,
}

/// What to do after the client's first handshake message.
pub enum AfterClientHello {
    /// Send `server_hello`, then feed the client's next frame (its ClientFinish) to `pending`.
    AwaitFinish { server_hello: Vec<u8>, pending: Box<PendingFinish> },
    /// IK accepted: send `server_hello` and the session is up.
    Done { server_hello: Vec<u8>, established: Box<Established> },
}

/// XX (or XX-fallback) responder state between our ServerHello and the client's ClientFinish.
pub struct PendingFinish {
    noise: NoiseHandshake,
    server_ephemeral: KeyPair,
    pattern: &'static str,
}

fn split(noise: NoiseHandshake) -> Result<TransportCiphers> {
    // `finish` names the keys from the initiator's view: its write key is our read key.
    let (initiator_write, initiator_read) = noise.finish().map_err(crypto)?;
    Ok(TransportCiphers { send: initiator_read, recv: initiator_write })
}

fn encode_server_hello(ephemeral: [u8; 32], r#static: Option<Vec<u8>>, payload: Vec<u8>) -> Vec<u8> {
    wa::HandshakeMessage {
        server_hello: MessageField::some(wa::handshake_message::ServerHello {
            ephemeral: Some(ephemeral.to_vec()),
            r#static,
            payload: Some(payload),
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

/// Processes the client's first handshake message (the payload of its first frame).
pub fn respond_to_client_hello(identity: &ServerIdentity, hello_frame: &[u8]) -> Result<AfterClientHello> {
    let msg =
        wa::HandshakeMessage::decode_from_slice(hello_frame).map_err(|e| NoiseServerError::Malformed(format!("HandshakeMessage: {e}")))?;
    let hello = msg.client_hello.into_option().ok_or_else(|| NoiseServerError::Malformed("no clientHello".into()))?;
    let client_ephemeral = key32(
        hello.ephemeral.as_deref().ok_or_else(|| NoiseServerError::Malformed("clientHello without ephemeral".into()))?,
        "client ephemeral",
    )?;

    if let (Some(enc_static), Some(enc_payload)) = (hello.r#static.as_deref(), hello.payload.as_deref()) {
        match try_ik(identity, client_ephemeral, enc_static, enc_payload) {
            Ok(done) => return Ok(done),
            Err(e) => {
                // The client addressed a static key that is not ours (stale cache). WhatsApp
                // answers with an XX-shaped hello under the XXfallback protocol name, reusing the
                // ephemeral the client already sent.
                log::debug!("IK rejected ({e}); answering with XXfallback");
                return start_xx(identity, client_ephemeral, NOISE_PATTERN_XXFALLBACK, "XXfallback");
            }
        }
    }
    start_xx(identity, client_ephemeral, NOISE_PATTERN_XX, "XX")
}

fn start_xx(identity: &ServerIdentity, client_ephemeral: [u8; 32], protocol: &str, pattern: &'static str) -> Result<AfterClientHello> {
    let mut noise = NoiseHandshake::new(protocol, &WA_CONN_HEADER).map_err(crypto)?;
    // -> e
    noise.authenticate(&client_ephemeral);
    // <- e, ee, s, es
    let server_ephemeral = KeyPair::generate(&mut rand::rng());
    let server_ephemeral_pub = public_bytes(&server_ephemeral);
    noise.authenticate(&server_ephemeral_pub);
    noise.mix_shared_secret(server_ephemeral.private_key.serialize(), &client_ephemeral).map_err(crypto)?;
    let enc_static = noise.encrypt(&identity.static_public()).map_err(crypto)?;
    noise.mix_shared_secret(identity.static_private(), &client_ephemeral).map_err(crypto)?;
    let enc_cert = noise.encrypt(&identity.cert_chain).map_err(crypto)?;
    Ok(AfterClientHello::AwaitFinish {
        server_hello: encode_server_hello(server_ephemeral_pub, Some(enc_static), enc_cert),
        pending: Box::new(PendingFinish { noise, server_ephemeral, pattern }),
    })
}

fn try_ik(identity: &ServerIdentity, client_ephemeral: [u8; 32], enc_static: &[u8], enc_payload: &[u8]) -> Result<AfterClientHello> {
    let mut noise = NoiseHandshake::new(NOISE_PATTERN_IK, &WA_CONN_HEADER).map_err(crypto)?;
    // pre-message <- s
    noise.authenticate(&identity.static_public());
    // -> e, es, s, ss
    noise.authenticate(&client_ephemeral);
    noise.mix_shared_secret(identity.static_private(), &client_ephemeral).map_err(crypto)?;
    let client_static = key32(&noise.decrypt(enc_static).map_err(crypto)?, "client static")?;
    noise.mix_shared_secret(identity.static_private(), &client_static).map_err(crypto)?;
    let client_payload = noise.decrypt(enc_payload).map_err(crypto)?;
    // <- e, ee, se
    let server_ephemeral = KeyPair::generate(&mut rand::rng());
    let server_ephemeral_pub = public_bytes(&server_ephemeral);
    noise.authenticate(&server_ephemeral_pub);
    noise.mix_shared_secret(server_ephemeral.private_key.serialize(), &client_ephemeral).map_err(crypto)?;
    noise.mix_shared_secret(server_ephemeral.private_key.serialize(), &client_static).map_err(crypto)?;
    let enc_cert = noise.encrypt(&identity.cert_chain).map_err(crypto)?;
    // No `static` in the reply: that is how the client tells "IK accepted" from "fall back".
    let server_hello = encode_server_hello(server_ephemeral_pub, None, enc_cert);
    Ok(AfterClientHello::Done {
        server_hello,
        established: Box::new(Established { ciphers: split(noise)?, client_static, client_payload, pattern: "IK" }),
    })
}

impl PendingFinish {
    /// Consumes the client's ClientFinish (`-> s, se` plus the login payload).
    pub fn read_client_finish(mut self, finish_frame: &[u8]) -> Result<Established> {
        let msg = wa::HandshakeMessage::decode_from_slice(finish_frame)
            .map_err(|e| NoiseServerError::Malformed(format!("HandshakeMessage: {e}")))?;
        let finish = msg.client_finish.into_option().ok_or_else(|| NoiseServerError::Malformed("no clientFinish".into()))?;
        let enc_static = finish.r#static.as_deref().ok_or_else(|| NoiseServerError::Malformed("clientFinish without static".into()))?;
        let enc_payload = finish.payload.as_deref().ok_or_else(|| NoiseServerError::Malformed("clientFinish without payload".into()))?;
        let client_static = key32(&self.noise.decrypt(enc_static).map_err(crypto)?, "client static")?;
        self.noise.mix_shared_secret(self.server_ephemeral.private_key.serialize(), &client_static).map_err(crypto)?;
        let client_payload = self.noise.decrypt(enc_payload).map_err(crypto)?;
        Ok(Established { ciphers: split(self.noise)?, client_static, client_payload, pattern: self.pattern })
    }
}

/// Per-direction frame counters around the transport ciphers (each direction's nonce counts
/// from zero after the handshake).
pub struct FrameCrypto {
    cipher: NoiseCipher,
    counter: u32,
}

impl FrameCrypto {
    pub fn new(cipher: NoiseCipher) -> Self {
        Self { cipher, counter: 0 }
    }

    fn next(&mut self) -> Result<u32> {
        let n = self.counter;
        self.counter = self.counter.checked_add(1).ok_or_else(|| NoiseServerError::Crypto("frame counter exhausted".into()))?;
        Ok(n)
    }

    pub fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>> {
        let n = self.next()?;
        self.cipher.encrypt_with_counter(n, plaintext).map_err(crypto)
    }

    pub fn decrypt(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>> {
        let n = self.next()?;
        let mut buf = ciphertext.to_vec();
        self.cipher.decrypt_in_place_with_counter(n, &mut buf).map_err(crypto)?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wacore_noise::{IkHandshakeState, IkServerHelloOutcome, XxFallbackHandshakeState, XxHandshakeState};

    fn server_hello_of(step: &AfterClientHello) -> &[u8] {
        match step {
            AfterClientHello::AwaitFinish { server_hello, .. } => server_hello,
            AfterClientHello::Done { server_hello, .. } => server_hello,
        }
    }

    /// Both sides must agree on the transport keys: a frame one encrypts, the other decrypts.
    fn assert_keys_match(client_write: NoiseCipher, client_read: NoiseCipher, server: TransportCiphers) {
        let mut c_send = FrameCrypto::new(client_write);
        let mut c_recv = FrameCrypto::new(client_read);
        let mut s_send = FrameCrypto::new(server.send);
        let mut s_recv = FrameCrypto::new(server.recv);
        for i in 0..3u8 {
            let up = c_send.encrypt(&[i, 1, 2]).unwrap();
            assert_eq!(s_recv.decrypt(&up).unwrap(), vec![i, 1, 2]);
            let down = s_send.encrypt(&[9, i]).unwrap();
            assert_eq!(c_recv.decrypt(&down).unwrap(), vec![9, i]);
        }
    }

    #[test]
    fn xx_round_trip_against_wacore_initiator() {
        let server = ServerIdentity::generate();
        let client_static = KeyPair::generate(&mut rand::rng());
        let mut client = XxHandshakeState::new(client_static.clone(), b"login".to_vec(), &WA_CONN_HEADER).unwrap();
        let hello = client.build_client_hello().unwrap();
        let step = respond_to_client_hello(&server, &hello).unwrap();
        let finish = client.read_server_hello_and_build_client_finish(server_hello_of(&step)).unwrap();
        let AfterClientHello::AwaitFinish { pending, .. } = step else {
            panic!("XX must wait for the client finish");
        };
        let established = pending.read_client_finish(&finish).unwrap();
        assert_eq!(established.pattern, "XX");
        assert_eq!(established.client_payload, b"login");
        assert_eq!(&established.client_static[..], client_static.public_key.public_key_bytes());
        let outcome = client.finish().unwrap();
        assert_eq!(outcome.server_cert_chain.leaf_key, server.static_public());
        assert_keys_match(outcome.write_cipher, outcome.read_cipher, established.ciphers);
    }

    #[test]
    fn ik_round_trip_with_cached_static() {
        let server = ServerIdentity::generate();
        let client_static = KeyPair::generate(&mut rand::rng());
        let mut client = IkHandshakeState::new(client_static, server.static_public(), b"0rtt".to_vec(), &WA_CONN_HEADER).unwrap();
        let hello = client.build_client_hello().unwrap();
        let step = respond_to_client_hello(&server, &hello).unwrap();
        let AfterClientHello::Done { server_hello, established } = step else {
            panic!("IK with the right static key must complete in one round trip");
        };
        assert_eq!(established.client_payload, b"0rtt");
        match client.read_server_hello(&server_hello).unwrap() {
            IkServerHelloOutcome::Continue(out) => assert_keys_match(out.write_cipher, out.read_cipher, established.ciphers),
            IkServerHelloOutcome::Fallback(_) => panic!("server must accept IK"),
        }
    }

    #[test]
    fn ik_with_stale_static_falls_back_to_xx() {
        let server = ServerIdentity::generate();
        let stale = ServerIdentity::generate();
        let client_static = KeyPair::generate(&mut rand::rng());
        let mut client = IkHandshakeState::new(client_static, stale.static_public(), b"payload".to_vec(), &WA_CONN_HEADER).unwrap();
        let hello = client.build_client_hello().unwrap();
        let step = respond_to_client_hello(&server, &hello).unwrap();
        let inputs = match client.read_server_hello(server_hello_of(&step)).unwrap() {
            IkServerHelloOutcome::Fallback(inputs) => inputs,
            IkServerHelloOutcome::Continue(_) => panic!("stale static must not be accepted"),
        };
        let mut fallback = XxFallbackHandshakeState::from_ik_failure(*inputs, &WA_CONN_HEADER).unwrap();
        let finish = fallback.build_client_finish().unwrap();
        let AfterClientHello::AwaitFinish { pending, .. } = step else { unreachable!() };
        let established = pending.read_client_finish(&finish).unwrap();
        assert_eq!(established.pattern, "XXfallback");
        assert_eq!(established.client_payload, b"payload");
        let out = fallback.finish().unwrap();
        assert_keys_match(out.write_cipher, out.read_cipher, established.ciphers);
    }

    #[test]
    fn garbage_hello_is_an_error_not_a_panic() {
        let server = ServerIdentity::generate();
        assert!(respond_to_client_hello(&server, &[0xff, 0x00, 0x13]).is_err());
        assert!(respond_to_client_hello(&server, &[]).is_err());
    }
}
