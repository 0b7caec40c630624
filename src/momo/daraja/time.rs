//! Daraja speaks East Africa Time (UTC+3, no daylight saving) in three spellings; this module turns each
//! into a UTC instant and renders the STK `Timestamp`. The digits are split by hand rather than with a
//! `strftime` pattern, because a pattern such as `%Y%m%d` over a run of digits is ambiguous and we want
//! exactly fourteen digits or an error.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::telemetry::redact_digits;

/// EAT is a fixed offset: Kenya has not observed daylight saving since 1942.
pub const EAT: FixedOffset = match FixedOffset::east_opt(3 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+3 is a valid offset"),
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {text:?} is not a valid Daraja time")]
pub struct TimeError {
    pub what: &'static str,
    /// The start of what was sent, its digit runs masked: an unreadable field can hold an MSISDN, and
    /// this error ends up in log lines.
    pub text: String,
}

impl TimeError {
    fn new(what: &'static str, text: &str) -> Self {
        Self { what, text: redact_digits(&text.chars().take(32).collect::<String>()) }
    }
}

/// C2B `TransTime` (`20191122063845`, EAT) to UTC. The STK `TransactionDate` and the status
/// `FinalisedTime` use the same digits, sent as a JSON number: pass that number's exact text.
pub fn parse_compact(text: &str) -> Result<DateTime<Utc>, TimeError> {
    let error = || TimeError::new("yyyyMMddHHmmss time", text);
    let t = text.trim();
    if t.len() != 14 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error());
    }
    let n = |range: std::ops::Range<usize>| t[range].parse::<u32>().map_err(|_| error());
    let year = i32::try_from(n(0..4)?).map_err(|_| error())?;
    local(year, n(4..6)?, n(6..8)?, n(8..10)?, n(10..12)?, n(12..14)?).ok_or_else(error)
}

/// B2C `TransactionCompletedDateTime` (`17.07.2017 10:54:57`, EAT) to UTC.
pub fn parse_dotted(text: &str) -> Result<DateTime<Utc>, TimeError> {
    let error = || TimeError::new("dd.MM.yyyy HH:mm:ss time", text);
    let t = text.trim();
    let (date, time) = t.split_once(' ').ok_or_else(error)?;
    let date: Vec<&str> = date.split('.').collect();
    let time: Vec<&str> = time.trim().split(':').collect();
    let widths_ok = date.len() == 3
        && time.len() == 3
        && [date[0].len(), date[1].len(), date[2].len()] == [2, 2, 4]
        && time.iter().all(|part| part.len() == 2);
    if !widths_ok || !date.iter().chain(time.iter()).all(|part| part.bytes().all(|b| b.is_ascii_digit())) {
        return Err(error());
    }
    let n = |part: &str| part.parse::<u32>().map_err(|_| error());
    let year = i32::try_from(n(date[2])?).map_err(|_| error())?;
    local(year, n(date[1])?, n(date[0])?, n(time[0])?, n(time[1])?, n(time[2])?).ok_or_else(error)
}

fn local(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<DateTime<Utc>> {
    let naive: NaiveDateTime = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(hour, minute, second)?;
    EAT.from_local_datetime(&naive).single().map(|at| at.with_timezone(&Utc))
}

/// The STK `Timestamp`: `yyyyMMddHHmmss` in EAT. Daraja checks it against the `Password`, which is
/// built from the same string, so both must come from one call.
pub fn stk_timestamp(now: DateTime<Utc>) -> String {
    now.with_timezone(&EAT).format("%Y%m%d%H%M%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).unwrap()
    }

    #[test]
    fn a_c2b_trans_time_is_read_as_eat_and_converted_to_utc() {
        assert_eq!(parse_compact("20191122063845"), Ok(utc("2019-11-22T03:38:45Z")));
    }

    #[test]
    fn an_early_morning_eat_time_falls_on_the_previous_utc_day() {
        assert_eq!(parse_compact("20260525010203"), Ok(utc("2026-05-24T22:02:03Z")));
    }

    #[test]
    fn the_stk_transaction_date_number_text_parses_like_trans_time() {
        assert_eq!(parse_compact("20191219102115"), Ok(utc("2019-12-19T07:21:15Z")));
    }

    #[test]
    fn a_b2c_completed_time_is_day_first_and_eat() {
        assert_eq!(parse_dotted("17.07.2017 10:54:57"), Ok(utc("2017-07-17T07:54:57Z")));
    }

    #[test]
    fn malformed_times_are_errors_not_panics() {
        for bad in ["", "2019112206384", "201911220638450", "2019112206384x", "20191322063845", "20190230120000"] {
            assert!(parse_compact(bad).is_err(), "{bad:?}");
        }
        for bad in
            ["", "17.07.2017", "17/07/2017 10:54:57", "7.7.2017 10:54:57", "32.07.2017 10:54:57", "ü.07.2017 10:54:57"]
        {
            assert!(parse_dotted(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_unreadable_time_never_carries_a_whole_number_into_its_error() {
        let error = parse_compact("254712345678").unwrap_err();
        assert_eq!(error.text, "25471****678");
        assert!(!error.to_string().contains("254712345678"), "{error}");
        let error = parse_dotted("call 254712345678 now").unwrap_err();
        assert!(!format!("{error} {error:?}").contains("712345678"), "{error:?}");
    }

    #[test]
    fn the_stk_timestamp_is_rendered_in_eat() {
        assert_eq!(stk_timestamp(utc("2026-05-25T10:02:38Z")), "20260525130238");
        assert_eq!(stk_timestamp(utc("2026-05-24T22:00:00Z")), "20260525010000");
    }
}
