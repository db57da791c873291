//! Business profiles: an account becomes a business by `POST /admin/business-profile`
//! (`{ phone, description, email?, website?, category?, address?, timezone?, hours? }`), and
//! `<iq xmlns="w:biz" type="get"><business_profile><profile jid/></business_profile>` answers
//! with its profile, as WhatsApp does; any other account has none.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Deserialize;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::Node;

use crate::accounts::Directory;
use crate::http_response::Response;
use crate::locking::lock;
use crate::stanza::{attr, result};

/// What business profiles need of the server: its accounts, and the profiles themselves.
pub trait BusinessState {
    fn directory(&self) -> &Mutex<Directory>;
    fn business(&self) -> &Mutex<BusinessDirectory>;
}

/// One `business_hours_config`: a day's opening hours (minutes since midnight).
#[derive(Debug, Clone, Deserialize)]
pub struct DayHours {
    pub day_of_week: String,
    pub mode: String,
    pub open_time: Option<u32>,
    pub close_time: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BusinessProfile {
    pub phone: String,
    #[serde(default)]
    pub description: String,
    pub email: Option<String>,
    pub website: Option<String>,
    pub category: Option<String>,
    pub address: Option<String>,
    pub timezone: Option<String>,
    #[serde(default)]
    pub hours: Vec<DayHours>,
}

/// Business profiles by phone.
#[derive(Default)]
pub struct BusinessDirectory {
    profiles: HashMap<String, BusinessProfile>,
}

/// `POST /admin/business-profile`.
pub fn set_profile(body: &[u8], state: &impl BusinessState) -> Response {
    let profile: BusinessProfile = match serde_json::from_slice(body) {
        Ok(p) => p,
        Err(e) => {
            return Response::text(
                400,
                format!("expected {{ phone, description, email?, website?, category?, address?, timezone?, hours? }}: {e}\n"),
            )
        }
    };
    if lock(state.directory()).account(&profile.phone).is_none() {
        return Response::text(404, format!("no account with phone {}\n", profile.phone));
    }
    lock(state.business()).profiles.insert(profile.phone.clone(), profile);
    Response::text(200, "ok\n")
}

pub(crate) fn text(tag: &'static str, content: &str) -> Node {
    NodeBuilder::new(tag).bytes(content.as_bytes().to_vec()).build()
}

/// The answer to a `business_profile` get: the profile of each asked jid that is a business.
pub fn handle_iq(state: &impl BusinessState, iq: &Node) -> Node {
    let business = lock(state.business());
    let asked = iq
        .children()
        .and_then(|c| c.iter().find(|n| n.tag == "business_profile"))
        .and_then(|b| b.children())
        .map(|c| c.iter().filter(|n| n.tag == "profile").filter_map(|p| attr(p, "jid")).collect::<Vec<_>>())
        .unwrap_or_default();
    let profiles = asked.into_iter().filter_map(|jid| {
        let phone = jid.split('@').next()?.split(':').next()?.to_owned();
        let p = business.profiles.get(&phone)?;
        let mut kids = vec![text("description", &p.description)];
        if let Some(a) = &p.address {
            kids.push(text("address", a));
        }
        if let Some(w) = &p.website {
            kids.push(text("website", w));
        }
        if let Some(e) = &p.email {
            kids.push(text("email", e));
        }
        if let Some(c) = &p.category {
            kids.push(
                NodeBuilder::new("categories")
                    .children([NodeBuilder::new("category").attr("id", "1").bytes(c.as_bytes().to_vec()).build()])
                    .build(),
            );
        }
        if p.timezone.is_some() || !p.hours.is_empty() {
            let days = p.hours.iter().map(|d| {
                let mut b =
                    NodeBuilder::new("business_hours_config").attr("day_of_week", d.day_of_week.clone()).attr("mode", d.mode.clone());
                if let Some(t) = d.open_time {
                    b = b.attr("open_time", t.to_string());
                }
                if let Some(t) = d.close_time {
                    b = b.attr("close_time", t.to_string());
                }
                b.build()
            });
            let mut hours = NodeBuilder::new("business_hours");
            if let Some(tz) = &p.timezone {
                hours = hours.attr("timezone", tz.clone());
            }
            kids.push(hours.children(days).build());
        }
        Some(NodeBuilder::new("profile").attr("jid", format!("{phone}@s.whatsapp.net")).attr("tag", "1").children(kids).build())
    });
    result(iq, vec![NodeBuilder::new("business_profile").children(profiles).build()])
}
