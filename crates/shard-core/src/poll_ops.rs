//! Poll votes: a `pollUpdateMessage` carries its vote encrypted with the poll's
//! `messageSecret`. Given the poll (the bot's `getMessage` finds it, as in Baileys), the
//! engine's poll feature decrypts the vote — trying the LID and phone-number forms of both
//! jids, as WhatsApp Web does — into the SHA-256 hashes of the chosen options.

use whatsapp_rust::features::PollVoteCiphertext;

use crate::error::{ErrorCode, Result, ShardError};
use crate::shard::Shard;
use crate::socket_ops::jid_arg;

/// One encrypted vote and what it was encrypted for (Baileys' `decryptPollVote` arguments).
#[derive(Debug, Clone)]
pub struct EncryptedVote {
    pub enc_payload: Vec<u8>,
    pub enc_iv: Vec<u8>,
    /// The poll's `messageContextInfo.messageSecret`.
    pub poll_enc_key: Vec<u8>,
    pub poll_msg_id: String,
    pub poll_creator_jid: String,
    pub voter_jid: String,
}

impl Shard {
    /// The selected options' hashes of `vote` (`PollVoteMessage.selectedOptions`).
    pub async fn decrypt_poll_vote(&self, vote: &EncryptedVote) -> Result<Vec<Vec<u8>>> {
        let creator = jid_arg("pollCreatorJid", &vote.poll_creator_jid).map_err(|e| e.for_shard(self.id()))?;
        let voter = jid_arg("voterJid", &vote.voter_jid).map_err(|e| e.for_shard(self.id()))?;
        let client = self.connected_client()?;
        let ciphertext = PollVoteCiphertext { enc_payload: &vote.enc_payload, enc_iv: &vote.enc_iv };
        client.polls().decrypt_vote(ciphertext, &vote.poll_enc_key, &vote.poll_msg_id, &creator, &voter).await.map_err(|e| {
            ShardError::new(
                ErrorCode::InvalidArgument,
                format!("poll vote {} could not be decrypted with this poll's messageSecret: {e}", vote.poll_msg_id),
            )
            .for_shard(self.id())
        })
    }
}
