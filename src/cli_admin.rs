//! How the operators' commands (`mkopo suspense list|retry`, `mkopo recon`) show the admin API's answers
//! to a person: one line per item with what to do next. `--json` prints the answer as it is instead.
//! Pure text from JSON, so every shape is unit-tested.

use serde_json::Value;

fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `3725` seconds as `1h 2m`.
fn age(v: &Value) -> String {
    let secs = v.as_i64().unwrap_or(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        s => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    }
}

fn items(body: &Value) -> &[Value] {
    body["items"].as_array().map_or(&[], Vec::as_slice)
}

pub fn suspense_list(body: &Value) -> String {
    let items = items(body);
    if items.is_empty() {
        return "No payment is in suspense.\n".to_owned();
    }
    let mut out = format!("{} payment{} in suspense:\n", items.len(), if items.len() == 1 { "" } else { "s" });
    for item in items {
        out.push_str(&format!(
            "  {}  {} {}  reason {}  payer {}  account {}  waiting {}\n",
            text(&item["id"]),
            text(&item["currency"]),
            text(&item["amount"]),
            text(&item["reason"]),
            text(&item["msisdn"]),
            text(&item["account"]),
            age(&item["age_secs"]),
        ));
    }
    out.push_str("Fix the cause, then: mkopo suspense retry <id>\n");
    out
}

pub fn retried(body: &Value) -> String {
    let next = match body["state"].as_str() {
        Some("planned") => "its refused parts will be posted again, with their original idempotency keys",
        Some("received") => "it will be allocated to a loan again",
        _ => "it is back on the inbox",
    };
    format!("Re-driven {}: {next}. Follow it with: mkopo suspense list\n", text(&body["id"]))
}

pub fn recon_list(body: &Value) -> String {
    let items = items(body);
    if items.is_empty() {
        return "Nothing waits for reconciliation.\n".to_owned();
    }
    let mut out = format!("{} to reconcile:\n", items.len());
    for item in items {
        out.push_str(&format!(
            "  {}  {}  {} {}  to {}  waiting {}  {}\n",
            text(&item["reference"]),
            text(&item["phase"]),
            text(&item["currency"]),
            text(&item["amount"]),
            text(&item["msisdn"]),
            age(&item["age_secs"]),
            text(&item["reason"]),
        ));
    }
    out.push_str("Settle each with the wallet provider (payout_unknown) or in the LMS (rollback_blocked).\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn suspense_lines_say_what_to_do_next() {
        let body = json!({ "items": [{ "id": "event:sandbox:HP1", "reason": "unknown_customer", "amount": "1000.00",
            "currency": "TZS", "msisdn": "25579****999", "account": null, "age_secs": 3725 }] });
        assert_eq!(
            suspense_list(&body),
            "1 payment in suspense:\n  event:sandbox:HP1  TZS 1000.00  reason unknown_customer  payer 25579****999  \
             account -  waiting 1h 2m\nFix the cause, then: mkopo suspense retry <id>\n"
        );
        assert_eq!(suspense_list(&json!({ "items": [] })), "No payment is in suspense.\n");
    }

    #[test]
    fn a_retry_says_what_happens_to_the_payment() {
        assert!(retried(&json!({ "id": "event:x:1", "state": "received" })).contains("allocated to a loan again"));
        assert!(retried(&json!({ "id": "event:x:1", "state": "planned" })).contains("original idempotency keys"));
    }

    #[test]
    fn reconciliation_lines_name_phase_amount_and_age() {
        let body = json!({ "items": [{ "reference": "L0000000018", "phase": "rollback_blocked", "amount": "10000",
            "currency": "TZS", "msisdn": "25571****678", "reason": "loan has repayments", "age_secs": 90 }] });
        let text = recon_list(&body);
        assert!(text
            .starts_with("1 to reconcile:\n  L0000000018  rollback_blocked  TZS 10000  to 25571****678  waiting 1m"));
        assert_eq!(recon_list(&json!({ "items": [] })), "Nothing waits for reconciliation.\n");
    }
}
