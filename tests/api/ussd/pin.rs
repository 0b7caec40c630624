//! The optional PIN (`ussd.pin.enabled`) in every dialect: chosen twice at registration, asked before a
//! borrow, locked after three wrong entries, and never stored: no Redis value holds the digits.

use super::edges::{app_with_prefix, raw_redis};
use super::phone::{Phone, Screen, Via, ALL};
use crate::helpers::TestApp;

const PIN: &str = "7391";
const CHOOSE: &str = "Choose a 4-digit PIN for loans:";
const ASK: &str = "Enter your PIN:";
const LOCKED: &str = "Too many wrong PINs. Try again in an hour.";

fn showing(text: &str) -> Screen {
    Screen { text: text.to_owned(), end: false }
}

/// Every key under `prefix` with each value it holds (strings, hash fields and values, members), as text.
async fn stored(prefix: &str) -> Vec<(String, String)> {
    let mut conn = raw_redis().await;
    let (mut cursor, mut keys) = (0u64, Vec::<String>::new());
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}:*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await
            .unwrap();
        keys.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    let mut out = Vec::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE").arg(&key).query_async(&mut conn).await.unwrap();
        let mut read = match kind.as_str() {
            "string" => redis::cmd("GET"),
            "hash" => redis::cmd("HGETALL"),
            "list" => redis::cmd("LRANGE"),
            "set" => redis::cmd("SMEMBERS"),
            "zset" => redis::cmd("ZRANGE"),
            "stream" => redis::cmd("XRANGE"),
            _ => continue, // expired between SCAN and TYPE
        };
        read.arg(&key);
        match kind.as_str() {
            "list" | "zset" => read.arg(0).arg(-1),
            "stream" => read.arg("-").arg("+"),
            _ => &mut read,
        };
        let value: redis::Value = read.query_async(&mut conn).await.unwrap();
        let mut texts = Vec::new();
        flatten(&value, &mut texts);
        out.extend(texts.into_iter().map(|t| (key.clone(), t)));
    }
    out
}

fn flatten(value: &redis::Value, out: &mut Vec<String>) {
    match value {
        redis::Value::BulkString(bytes) => out.push(String::from_utf8_lossy(bytes).into_owned()),
        redis::Value::SimpleString(s) => out.push(s.clone()),
        redis::Value::Int(n) => out.push(n.to_string()),
        redis::Value::Array(items) | redis::Value::Set(items) => items.iter().for_each(|v| flatten(v, out)),
        redis::Value::Map(pairs) => pairs.iter().for_each(|(k, v)| [k, v].into_iter().for_each(|x| flatten(x, out))),
        _ => {}
    }
}

/// `pin` standing on its own in `text` (`"7391"`, `1*7391`), not inside a longer run of hex digits: a
/// MAC, hash or timestamp may hold the four digits by chance.
fn holds_pin(text: &str) -> bool {
    text.match_indices(PIN).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + PIN.len()..].chars().next();
        !before.into_iter().chain(after).any(|c| c.is_ascii_hexdigit())
    })
}

async fn assert_pin_not_stored(prefix: &str, when: &str) {
    let values = stored(prefix).await;
    assert!(values.iter().any(|(k, _)| k.contains(":ussd:")), "{when}: the scan sees the session keys");
    let leaks: Vec<_> = values.iter().filter(|(k, v)| holds_pin(k) || holds_pin(v)).collect();
    assert!(leaks.is_empty(), "{when}: the PIN is stored: {leaks:?}");
}

/// Registers with `PIN` (after one mismatched repeat) and lands on the main menu.
async fn registered_with_pin(app: &TestApp, prefix: &str, via: Via, msisdn: &str) -> Phone {
    let mut phone = Phone::dial(app, via, msisdn).await;
    phone.walk(&["Accept"]).await;
    assert_eq!(phone.screen, showing(CHOOSE), "{via:?}: registration asks for a PIN");
    phone.send(PIN).await;
    assert_eq!(phone.screen, showing("Enter the PIN again:"), "{via:?}");
    assert_pin_not_stored(prefix, "with the first entry staged").await;
    phone.send("7392").await;
    assert_eq!(phone.screen, showing(&format!("The PINs did not match. Try again.\n{CHOOSE}")), "{via:?}");
    phone.walk(&[PIN, PIN]).await;
    assert_eq!(phone.screen, showing("Your PIN is set.\n1. Main menu"), "{via:?}");
    phone.walk(&["Main menu"]).await;
    phone
}

#[tokio::test]
async fn a_pin_is_chosen_twice_asked_before_a_borrow_and_never_stored_in_every_dialect() {
    let (app, prefix) = app_with_prefix(|s| s.ussd.pin.enabled = true).await;
    let lms = app.sandbox_client();
    assert!(holds_pin(r#"{"input":"1*7391"}"#) && !holds_pin("a07391b"), "the check can fail");
    for (i, via) in ALL.into_iter().enumerate() {
        let msisdn = via.msisdn(900 + i as u32);
        let mut phone = registered_with_pin(&app, &prefix, via, &msisdn).await;
        phone.walk(&["Borrow", "7-Day", "Other amount", "10000", "Confirm"]).await;
        assert_eq!(phone.screen, showing(ASK), "{via:?}");
        phone.send("1111").await;
        assert_eq!(phone.screen, showing(&format!("Wrong PIN. 2 tries left.\n{ASK}")), "{via:?}");
        phone.send(PIN).await;
        assert!(phone.screen.end, "{via:?}");
        assert!(phone.screen.text.starts_with("TZS 10,000 has been sent"), "{via:?}: {}", phone.screen.text);
        assert_eq!(lms.active_loans(&msisdn).await.unwrap().len(), 1, "{via:?}");
        assert_pin_not_stored(&prefix, &format!("{via:?}, after the borrow")).await;
    }
}

#[tokio::test]
async fn three_wrong_pins_lock_the_borrow_in_every_dialect() {
    let (app, prefix) = app_with_prefix(|s| s.ussd.pin.enabled = true).await;
    let lms = app.sandbox_client();
    let to_pin = ["Borrow", "7-Day", "Other amount", "10000", "Confirm"];
    for (i, via) in ALL.into_iter().enumerate() {
        let msisdn = via.msisdn(910 + i as u32);
        let mut phone = registered_with_pin(&app, &prefix, via, &msisdn).await;
        phone.walk(&to_pin).await;
        phone.send("0000").await;
        assert_eq!(phone.screen, showing(&format!("Wrong PIN. 2 tries left.\n{ASK}")), "{via:?}");
        phone.send("0000").await;
        assert_eq!(phone.screen, showing(&format!("Wrong PIN. 1 try left.\n{ASK}")), "{via:?}");
        phone.send("0000").await;
        assert_eq!(phone.screen, Screen { text: LOCKED.into(), end: true }, "{via:?}");

        let mut again = Phone::dial(&app, via, &msisdn).await;
        again.walk(&to_pin).await;
        assert_eq!(again.screen, Screen { text: LOCKED.into(), end: true }, "{via:?}: locked before any PIN");
        assert!(lms.active_loans(&msisdn).await.unwrap().is_empty(), "{via:?}: nothing was lent");
    }
}
