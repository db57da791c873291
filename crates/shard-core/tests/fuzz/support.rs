//! What every property shares: the case budget, where failures are saved, the "bounded" check
//! (no panic, no hang, no allocation out of proportion to the input), and input generators and
//! mutators for bytes, JSON and `BValue` trees.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};
use serde_json::Value;
use shard_core::BValue;

// ---------------------------------------------------------------------------------------------
// Configuration.

/// `cases` unless `PROPTEST_CASES` says otherwise (for a long local run).
pub fn config(cases: u32, regressions: &'static str) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        // Shrinking a failure may take long; the seed is saved before it starts.
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    }
}

/// The regressions file (the corpus of failing seeds) of a module, in the crate's
/// `proptest-regressions/` folder.
macro_rules! regressions {
    ($name:literal) => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/proptest-regressions/", $name, ".txt")
    };
}
pub(crate) use regressions;

// ---------------------------------------------------------------------------------------------
// Bounded: time and memory.

/// Counts the bytes each thread has allocated and not freed, and the peak of that, so a
/// property can check what one call allocated. Thread-local, so parallel tests do not mix.
struct CountingAllocator;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        count(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// How long one call may take before it counts as a hang. Generous: a debug build on a busy
/// 2-core machine; the inputs are small, so a correct call takes milliseconds.
const HANG: Duration = Duration::from_secs(20);

/// Runs `f` on a thread of its own and checks that it returns within [`HANG`] and that the
/// most it held allocated at once is at most `max_bytes`. A panic in `f` fails the case
/// (proptest then shrinks it), with the panic's message.
pub fn bounded<T: Send + 'static>(max_bytes: usize, f: impl FnOnce() -> T + Send + 'static) -> Result<T, TestCaseError> {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name("bounded".into())
        .spawn(move || {
            let start = LIVE.with(Cell::get);
            PEAK.with(|p| p.set(start));
            let out = f();
            let peak = (PEAK.with(Cell::get) - start).max(0) as usize;
            let _ = tx.send((out, peak));
        })
        .expect("spawn a thread");
    match rx.recv_timeout(HANG) {
        Ok((out, peak)) => {
            let _ = worker.join();
            prop_assert!(peak <= max_bytes, "allocated {peak} bytes at once (limit {max_bytes})");
            Ok(out)
        }
        Err(mpsc::RecvTimeoutError::Timeout) => Err(TestCaseError::fail(format!("did not return within {HANG:?} (a hang?)"))),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let payload = worker.join().expect_err("the worker ended without an answer, so it panicked");
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(no message)".into());
            Err(TestCaseError::fail(format!("panicked: {message}")))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bytes: mutations of valid input.

/// One edit of a byte string. Positions are taken modulo the length, so every edit applies.
#[derive(Debug, Clone)]
pub enum Edit {
    FlipBit(usize, u8),
    SetByte(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
    /// Copies a piece of the input over another place (repeats a field, a length, a tag).
    Duplicate(usize, usize, usize),
}

pub fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), 0u8..8).prop_map(|(i, b)| Edit::FlipBit(i, b)),
        2 => (any::<usize>(), prop_oneof![Just(0u8), Just(0x7f), Just(0x80), Just(0xff), any::<u8>()]).prop_map(|(i, b)| Edit::SetByte(i, b)),
        1 => (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8)).prop_map(|(i, b)| Edit::Insert(i, b)),
        1 => (any::<usize>(), 1usize..16).prop_map(|(i, n)| Edit::Delete(i, n)),
        1 => any::<usize>().prop_map(Edit::Truncate),
        1 => (any::<usize>(), any::<usize>(), 1usize..32).prop_map(|(from, to, n)| Edit::Duplicate(from, to, n)),
    ]
}

pub fn apply_edits(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len();
        if len == 0 {
            if let Edit::Insert(_, b) = edit {
                bytes.extend_from_slice(b);
            }
            continue;
        }
        match edit {
            Edit::FlipBit(i, bit) => bytes[i % len] ^= 1 << bit,
            Edit::SetByte(i, b) => bytes[i % len] = *b,
            Edit::Insert(i, b) => {
                let at = i % (len + 1);
                bytes.splice(at..at, b.iter().copied());
            }
            Edit::Delete(i, n) => {
                let at = i % len;
                bytes.drain(at..(at + n).min(len));
            }
            Edit::Truncate(i) => bytes.truncate(i % len),
            Edit::Duplicate(from, to, n) => {
                let from = from % len;
                let piece: Vec<u8> = bytes[from..(from + n).min(len)].to_vec();
                let at = to % (len + 1);
                bytes.splice(at..at, piece);
            }
        }
    }
    bytes
}

/// One of `seeds`, edited 1 to 8 times.
pub fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let n = seeds.len();
    (0..n, proptest::collection::vec(edit(), 1..8)).prop_map(move |(i, edits)| apply_edits(seeds[i].clone(), &edits))
}

// ---------------------------------------------------------------------------------------------
// JSON: arbitrary values and mutations of valid documents.

/// Strings that matter to the readers: base64 of key-sized byte strings, jids, numbers as
/// text, and anything.
pub fn interesting_string() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => ".{0,12}",
        2 => prop_oneof![Just(0usize), Just(1), Just(31), Just(32), Just(33), Just(64), 0usize..80]
            .prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n))
            .prop_map(|b| shard_core::buffer_json::base64(&b)),
        1 => "[A-Za-z0-9+/=_-]{0,50}",
        1 => "[0-9]{1,15}(:[0-9]{1,2})?@(s\\.whatsapp\\.net|lid|g\\.us|c\\.us)",
        1 => "-?[0-9]{1,25}",
        1 => Just("v1".to_string()),
    ]
}

/// A BufferJSON value, in Baileys' (base64) or Node's (array of numbers) form, of a
/// key-like length; sometimes with a number that is not a byte.
pub fn buffer_json_value() -> impl Strategy<Value = Value> {
    let len = prop_oneof![Just(0usize), Just(1), Just(31), Just(32), Just(33), Just(64), 0usize..80];
    prop_oneof![
        len.clone().prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n)).prop_map(|b| shard_core::buffer_json::encode(&b)),
        len.prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n)).prop_map(|b| serde_json::json!({ "type": "Buffer", "data": b })),
        proptest::collection::vec(prop_oneof![any::<i64>().prop_map(Value::from), Just(Value::from(256)), Just(Value::from(1.5))], 0..40)
            .prop_map(|d| serde_json::json!({ "type": "Buffer", "data": d })),
        any::<Option<String>>().prop_map(|d| serde_json::json!({ "type": "Buffer", "data": d })),
    ]
}

fn json_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        prop_oneof![Just(0i64), Just(-1), Just(1), Just(i64::from(u32::MAX)), Just(i64::from(u32::MAX) + 1), Just(i64::MIN)]
            .prop_map(Value::from),
    ]
}

/// Any JSON value, a few levels deep, with the strings and Buffers the readers look for.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        json_number(),
        interesting_string().prop_map(Value::String),
        buffer_json_value(),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key_string(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn key_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "type", "data", "public", "private", "key", "value", "keyPair", "keyId", "signature", "id", "lid", "me",
            "_sessions", "version", "registrationId", "currentRatchet", "indexInfo", "_chains", "chainKey", "chainType",
            "messageKeys", "counter", "senderKeyId", "senderChainKey", "senderSigningKey", "senderMessageKeys", "iteration",
            "seed", "keyData", "fingerprint", "timestamp", "hash", "indexValueMap", "valueMac", "low", "high", "unsigned",
        ])
        .prop_map(str::to_owned),
        1 => "[a-zA-Z_]{0,10}",
    ]
}

/// One edit of a JSON document: the node it applies to is picked by index (modulo the count).
#[derive(Debug, Clone)]
pub enum JsonEdit {
    /// Replaces the node with another value.
    Replace(usize, Value),
    /// Removes the node from its parent.
    Remove(usize),
    /// Cuts a string (a base64 key, a jid) to a prefix.
    TruncateString(usize, usize),
    /// Adds a key to an object, or an element to an array.
    Add(usize, String, Value),
}

pub fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        3 => (any::<usize>(), json_value()).prop_map(|(i, v)| JsonEdit::Replace(i, v)),
        2 => any::<usize>().prop_map(JsonEdit::Remove),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(i, n)| JsonEdit::TruncateString(i, n)),
        1 => (any::<usize>(), key_string(), json_value()).prop_map(|(i, k, v)| JsonEdit::Add(i, k, v)),
    ]
}

/// Every node's JSON pointer, the root first.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| pointers(v, format!("{at}/{i}"), out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| pointers(v, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out)),
        _ => {}
    }
}

pub fn apply_json_edits(mut doc: Value, edits: &[JsonEdit]) -> Value {
    for edit in edits {
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        let pick = |i: &usize| all[i % all.len()].clone();
        match edit {
            JsonEdit::Replace(i, v) => {
                if let Some(node) = doc.pointer_mut(&pick(i)) {
                    *node = v.clone();
                }
            }
            JsonEdit::Remove(i) => {
                let at = pick(i);
                let Some((parent, last)) = at.rsplit_once('/') else { continue };
                match doc.pointer_mut(parent) {
                    Some(Value::Object(map)) => {
                        map.remove(&last.replace("~1", "/").replace("~0", "~"));
                    }
                    Some(Value::Array(items)) => {
                        if let Ok(n) = last.parse::<usize>() {
                            if n < items.len() {
                                items.remove(n);
                            }
                        }
                    }
                    _ => {}
                }
            }
            JsonEdit::TruncateString(i, n) => {
                if let Some(Value::String(s)) = doc.pointer_mut(&pick(i)) {
                    let mut cut = n % (s.len() + 1);
                    while !s.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    s.truncate(cut);
                }
            }
            JsonEdit::Add(i, k, v) => match doc.pointer_mut(&pick(i)) {
                Some(Value::Object(map)) => {
                    map.insert(k.clone(), v.clone());
                }
                Some(Value::Array(items)) => items.push(v.clone()),
                _ => {}
            },
        }
    }
    doc
}

/// One of `seeds` (valid documents), edited 1 to 6 times at the JSON level; half of the time
/// only once, so that most of the document stays valid and the readers get past their first
/// checks.
pub fn mutated_json(seeds: Vec<Value>) -> impl Strategy<Value = Value> {
    let n = seeds.len();
    let edits = prop_oneof![proptest::collection::vec(json_edit(), 1..2), proptest::collection::vec(json_edit(), 1..6)];
    (0..n, edits).prop_map(move |(i, edits)| apply_json_edits(seeds[i].clone(), &edits))
}

// ---------------------------------------------------------------------------------------------
// BValue trees.

/// Any `BValue` leaf, with the numbers and strings the converters treat specially.
pub fn bvalue_leaf() -> impl Strategy<Value = BValue> {
    prop_oneof![
        Just(BValue::Null),
        any::<bool>().prop_map(BValue::Bool),
        any::<i64>().prop_map(BValue::Int),
        prop_oneof![Just(0i64), Just(-1), Just(1), Just(255), Just(256), Just(i64::from(i32::MIN)), Just(i64::from(u32::MAX))]
            .prop_map(BValue::Int),
        any::<u64>().prop_map(BValue::Uint),
        any::<f64>().prop_map(BValue::Float),
        prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(-0.0), Just(1e300), Just(0.5), Just(-2147483648.9)].prop_map(BValue::Float),
        interesting_string().prop_map(BValue::String),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(BValue::Bytes),
    ]
}

/// A `BValue` tree at most `depth` levels deep whose object keys come from `keys`.
pub fn bvalue_tree(keys: Vec<String>, depth: u32) -> impl Strategy<Value = BValue> {
    let key = prop_oneof![4 => prop::sample::select(keys), 1 => "[a-zA-Z]{0,8}"];
    bvalue_leaf().prop_recursive(depth, 96, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(BValue::Array),
            proptest::collection::vec((key.clone(), inner), 0..6).prop_map(BValue::Object),
        ]
    })
}

/// The check itself: a panic and an allocation over the limit fail the case.
#[test]
fn bounded_reports_panics_and_oversized_allocations() {
    assert!(bounded(1024, || 1).is_ok());
    let panicked = bounded(1024, || panic!("boom")).expect_err("a panic fails");
    assert!(panicked.to_string().contains("boom"), "{panicked}");
    let big = bounded(1024, || vec![1u8; 1 << 20].len()).expect_err("1 MiB is over 1 KiB");
    assert!(big.to_string().contains("allocated"), "{big}");
}
