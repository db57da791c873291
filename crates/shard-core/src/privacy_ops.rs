//! Baileys' privacy calls: `fetchPrivacySettings` and the `update*Privacy` setters (one privacy
//! category each), and `updateDefaultDisappearingMode`. The engine's privacy IQs do the work;
//! values are checked against WhatsApp's table first, so a typo is `INVALID_ARGUMENT` naming
//! what the category takes instead of a bare 400 from the server.

use wacore::iq::privacy::{PrivacyCategory, PrivacyValue};

use crate::error::{ErrorCode, Result, ShardError};
use crate::shard::Shard;
use crate::stanza_ops::iq_failure;

/// The values a category takes, for error messages.
fn allowed_values(category: &PrivacyCategory) -> &'static str {
    match category {
        PrivacyCategory::Last | PrivacyCategory::Profile | PrivacyCategory::Status | PrivacyCategory::GroupAdd => {
            "'all', 'contacts', 'contact_blacklist' or 'none'"
        }
        PrivacyCategory::ReadReceipts => "'all' or 'none'",
        PrivacyCategory::Online => "'all' or 'match_last_seen'",
        PrivacyCategory::CallAdd => "'all', 'known' or 'contacts'",
        PrivacyCategory::Messages => "'all' or 'contacts'",
        PrivacyCategory::DefenseMode => "'off' or 'on_standard'",
        PrivacyCategory::Other(_) => "a value WhatsApp knows",
    }
}

impl Shard {
    /// `fetchPrivacySettings()`: `{ [category]: value }`, in the server's order.
    pub async fn fetch_privacy_settings(&self) -> Result<Vec<(String, String)>> {
        let client = self.connected_client()?;
        let settings = client.fetch_privacy_settings().await.map_err(|e| iq_failure(self.id(), "fetchPrivacySettings", &e))?;
        Ok(settings.settings.iter().map(|s| (s.category.as_str().to_owned(), s.value.as_str().to_owned())).collect())
    }

    /// One `update*Privacy(value)` call: sets `category` (its wire name, e.g. `last`).
    pub async fn update_privacy(&self, what: &str, category: &str, value: &str) -> Result<()> {
        let category = PrivacyCategory::from(category);
        let parsed = PrivacyValue::from(value);
        if matches!(category, PrivacyCategory::Other(_)) || !category.is_valid_value(&parsed) {
            return Err(ShardError::new(
                ErrorCode::InvalidArgument,
                format!("{what}: the value must be {}, got {value:?}", allowed_values(&category)),
            )
            .for_shard(self.id()));
        }
        let client = self.connected_client()?;
        client.set_privacy_setting(category, parsed).await.map(|_| ()).map_err(|e| iq_failure(self.id(), what, &e))
    }

    /// `updateDefaultDisappearingMode(seconds)`: the timer new chats start with (0 = off).
    pub async fn update_default_disappearing_mode(&self, seconds: u32) -> Result<()> {
        let client = self.connected_client()?;
        client.set_default_disappearing_mode(seconds).await.map_err(|e| iq_failure(self.id(), "updateDefaultDisappearingMode", &e))
    }
}
