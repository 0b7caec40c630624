use super::*;

fn inbound(d: Dialect) -> Inbound {
    match d {
        Dialect::AfricasTalking => parse(d, "sessionId=S&phoneNumber=%2B255712345678&serviceCode=*384%23", FORM),
        Dialect::Beem => parse(d, r#"{"command":"initiate","msisdn":"255712345678","session_id":"4574"}"#, JSON),
        Dialect::Hubtel => parse(d, r#"{"Type":"Initiation","Mobile":"255712345678","SessionId":"h"}"#, JSON),
    }
}

fn render(d: Dialect, end: bool) -> String {
    let reply = UssdReply { text: "Karibu".into(), end };
    String::from_utf8(d.render(&inbound(d), 1, &reply).1).unwrap()
}

#[test]
fn a_continuing_reply_renders_con_continue_and_response() {
    assert_eq!(render(Dialect::AfricasTalking, false), "CON Karibu");
    assert!(render(Dialect::Beem, false).contains(r#""command":"continue""#));
    assert!(render(Dialect::Hubtel, false).contains(r#""Type":"Response""#));
}

#[test]
fn an_ending_reply_renders_end_terminate_and_release() {
    assert_eq!(render(Dialect::AfricasTalking, true), "END Karibu");
    assert!(render(Dialect::Beem, true).contains(r#""command":"terminate""#));
    assert!(render(Dialect::Hubtel, true).contains(r#""Type":"Release""#));
}

#[test]
fn africastalking_replies_are_plain_text_with_real_line_feeds() {
    let reply = UssdReply::con("Karibu Mkopo\n1. Omba mkopo\n2. Salio");
    let (ct, body) = Dialect::AfricasTalking.render(&inbound(Dialect::AfricasTalking), 1, &reply);
    assert_eq!(ct, "text/plain; charset=utf-8");
    assert_eq!(body, b"CON Karibu Mkopo\n1. Omba mkopo\n2. Salio");
}
