//! Fault injection on app-state answers (`POST /admin/faults/app-state`): what a targeted device
//! is served is spoiled, the stored patches are not, so the device's next sync after the fault
//! is used up gets good patches again — what a client must survive without losing its session.

use wacore_appstate::hash::generate_patch_mac;
use wacore_binary::{Node, NodeContent};

use super::Keys;
use crate::faults::AppStateSpoil;
use crate::stanza::{attr, kids};

/// The name an [`AppStateSpoil::UnknownCollection`] answer carries.
pub const UNKNOWN_COLLECTION: &str = "mock_unknown_collection";

fn children_mut(node: &mut Node) -> &mut [Node] {
    match &mut node.content {
        Some(NodeContent::Nodes(nodes)) => nodes,
        _ => &mut [],
    }
}

fn patches_mut(collection: &mut Node) -> Option<&mut [Node]> {
    let patches = children_mut(collection).iter_mut().find(|n| n.tag == "patches")?;
    Some(children_mut(patches)).filter(|p| !p.is_empty())
}

fn has_patches(collection: &Node) -> bool {
    kids(collection).iter().any(|n| n.tag == "patches" && !kids(n).is_empty())
}

/// Whether any `<collection>` answer carries a patch (only those are spoiled).
pub fn carries_patches(answers: &[Node]) -> bool {
    answers.iter().any(has_patches)
}

/// Spoils the first collection answer that carries patches (its last patch, for a MAC).
pub fn spoil(answers: &mut [Node], kind: AppStateSpoil, keys: &Keys) {
    let Some(answer) = answers.iter_mut().find(|a| has_patches(a)) else { return };
    let name = attr(answer, "name").unwrap_or_default();
    if kind == AppStateSpoil::UnknownCollection {
        answer.attrs.insert("name", UNKNOWN_COLLECTION);
        return;
    }
    let Some(node) = patches_mut(answer).and_then(|p| p.last_mut()) else { return };
    let Some(NodeContent::Bytes(bytes)) = &mut node.content else { return };
    let Ok(mut patch) = waproto::codec::syncd_patch_decode(bytes) else { return };
    match kind {
        AppStateSpoil::MutationMac => {
            // A byte of the first record's ciphertext (before its 32-byte value MAC): the MAC no
            // longer matches the content, while the patch MAC and the LTHash (which cover only
            // the value MACs) still verify.
            let blob = patch.mutations.first_mut().and_then(|m| m.record.as_option_mut()).and_then(|r| r.value.as_option_mut());
            if let Some(blob) = blob.and_then(|v| v.blob.as_mut()).filter(|b| b.len() > 32) {
                blob[0] ^= 0x01;
            }
        }
        AppStateSpoil::PatchMac => {
            if let Some(mac) = patch.patch_mac.as_mut().filter(|m| !m.is_empty()) {
                mac[0] ^= 0x01;
            }
        }
        AppStateSpoil::SnapshotMac => {
            if let Some(mac) = patch.snapshot_mac.as_mut().filter(|m| !m.is_empty()) {
                mac[0] ^= 0x01;
            }
            let version = patch.version.as_option().and_then(|v| v.version).unwrap_or(0);
            patch.patch_mac = Some(generate_patch_mac(&patch, &name, &keys.expanded.patch_mac, version));
        }
        AppStateSpoil::UnknownCollection => {}
    }
    *bytes = waproto::codec::syncd_patch_to_vec(&patch);
}
