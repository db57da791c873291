//! Poll-vote decryption for `lib/poll-votes.js`; the work is in `shard_core::poll_ops`.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use shard_core::poll_ops::EncryptedVote;

use crate::errors::{self as js, settle};
use crate::shard::NativeShard;

/// A `pollUpdateMessage.vote` and what it was encrypted for.
#[napi(object)]
pub struct EncryptedPollVote {
    pub enc_payload: Buffer,
    pub enc_iv: Buffer,
    /// The poll's `messageContextInfo.messageSecret`.
    pub poll_enc_key: Buffer,
    pub poll_msg_id: String,
    pub poll_creator_jid: String,
    pub voter_jid: String,
}

#[napi]
impl NativeShard {
    /// The selected options' SHA-256 hashes of one vote (`PollVoteMessage.selectedOptions`).
    #[napi(catch_unwind)]
    pub fn decrypt_poll_vote<'env>(&self, env: &'env Env, vote: EncryptedPollVote) -> js::Result<PromiseRaw<'env, Vec<Buffer>>> {
        let shard = self.shard.clone();
        settle(env, async move {
            let vote = EncryptedVote {
                enc_payload: vote.enc_payload.to_vec(),
                enc_iv: vote.enc_iv.to_vec(),
                poll_enc_key: vote.poll_enc_key.to_vec(),
                poll_msg_id: vote.poll_msg_id,
                poll_creator_jid: vote.poll_creator_jid,
                voter_jid: vote.voter_jid,
            };
            let hashes = shard.decrypt_poll_vote(&vote).await?;
            Ok(hashes.into_iter().map(Buffer::from).collect())
        })
    }
}
