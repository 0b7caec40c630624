//! List paging: `page` (1-based, default 1), `rows` (default 10, at most 100), `orderBy` and
//! `sortOrder`, answered as `{items, total, page, rowsPerPage}`. Bad values reproduce the real API's
//! quirk of reporting every problem on field `page`.

use serde::Serialize;

use super::errors::{ApiError, FieldError};
use super::params::Query;

pub(crate) const DEFAULT_ROWS: u32 = 10;
pub(crate) const MAX_ROWS: u32 = 100;

/// The paging part of a list request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PageRequest {
    pub page: u32,
    pub rows: u32,
    /// `orderBy` as given; each list decides which columns it knows and falls back to `id`.
    pub order_by: Option<String>,
    /// `sortOrder=DESC` (any case); anything else sorts ascending, so odd values are tolerated.
    pub descending: bool,
}

/// One page of a list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub rows_per_page: u32,
}

impl PageRequest {
    pub fn from_query(query: &Query) -> Result<Self, ApiError> {
        let mut problems = Vec::new();
        let page = number(query.get("page"), 1, &mut problems);
        let rows = number(query.get("rows"), i64::from(DEFAULT_ROWS), &mut problems);
        if page.is_some_and(|p| p < 1) {
            problems.push(FieldError::new("page", "page value too small, must be larger than 0"));
        }
        if rows.is_some_and(|r| r > i64::from(MAX_ROWS)) {
            problems.push(FieldError::new("page", "rows value too large, must be less than 100"));
        }
        // Not documented; a page of no rows can never make progress, so refuse it the same way.
        if rows.is_some_and(|r| r < 1) {
            problems.push(FieldError::new("page", "rows value too small, must be larger than 0"));
        }
        match (page.and_then(|p| u32::try_from(p).ok()), rows.and_then(|r| u32::try_from(r).ok())) {
            (Some(page), Some(rows)) if problems.is_empty() => Ok(PageRequest {
                page,
                rows,
                order_by: query.get("orderBy").filter(|o| !o.is_empty()).map(str::to_owned),
                descending: query.get("sortOrder").is_some_and(|o| o.eq_ignore_ascii_case("desc")),
            }),
            _ => {
                if problems.is_empty() {
                    problems.push(FieldError::new("page", "page conversion: value out of range"));
                }
                Err(ApiError::invalid(problems))
            }
        }
    }

    /// Cuts one page out of the full, already filtered and sorted list.
    pub fn paginate<T>(&self, items: Vec<T>) -> Page<T> {
        let total = items.len() as u64;
        let skip = (self.page as usize - 1).saturating_mul(self.rows as usize);
        Page {
            items: items.into_iter().skip(skip).take(self.rows as usize).collect(),
            total,
            page: self.page,
            rows_per_page: self.rows,
        }
    }

    /// Applies the requested direction to an ascending order.
    pub fn direct(&self, ordering: std::cmp::Ordering) -> std::cmp::Ordering {
        if self.descending {
            ordering.reverse()
        } else {
            ordering
        }
    }
}

/// Reads one paging number the way the upstream Go service does (`strconv.Atoi`); empty means default.
fn number(raw: Option<&str>, default: i64, problems: &mut Vec<FieldError>) -> Option<i64> {
    match raw {
        None | Some("") => Some(default),
        Some(text) => match text.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.push(FieldError::new(
                    "page",
                    format!("page conversion: strconv.Atoi: parsing {text:?}: invalid syntax"),
                ));
                None
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn request(qs: &str) -> Result<PageRequest, ApiError> {
        let req = TestRequest::get().uri(&format!("/x?{qs}")).to_http_request();
        PageRequest::from_query(&Query::parse(&req)?)
    }

    #[test]
    fn defaults_are_page_one_of_ten_rows() {
        let page = request("").unwrap();
        assert_eq!((page.page, page.rows, page.descending), (1, 10, false));
    }

    #[test]
    fn a_hundred_rows_is_accepted_and_a_hundred_and_one_is_not() {
        assert_eq!(request("rows=100").unwrap().rows, 100);
        let err = request("rows=101").unwrap_err();
        assert_eq!(err.wire_message(), r#"[{"field":"page","error":"rows value too large, must be less than 100"}]"#);
    }

    #[test]
    fn page_zero_and_garbage_are_reported_on_field_page() {
        let err = request("page=0").unwrap_err();
        assert_eq!(err.wire_message(), r#"[{"field":"page","error":"page value too small, must be larger than 0"}]"#);
        let err = request("page=abc").unwrap_err();
        assert!(err.wire_message().contains(r#""field":"page","error":"page conversion: "#));
        let err = request("rows=x").unwrap_err();
        assert!(err.wire_message().contains("page conversion: "));
    }

    #[test]
    fn paginate_counts_everything_and_slices_one_page() {
        let page = request("page=2&rows=3").unwrap().paginate((1..=7).collect());
        assert_eq!((page.items, page.total, page.page, page.rows_per_page), (vec![4, 5, 6], 7, 2, 3));
        let beyond = request("page=9&rows=3").unwrap().paginate((1..=7).collect::<Vec<_>>());
        assert!(beyond.items.is_empty());
        assert_eq!(beyond.total, 7);
    }

    #[test]
    fn sort_order_desc_is_case_insensitive_and_odd_values_sort_ascending() {
        assert!(request("sortOrder=desc").unwrap().descending);
        assert!(!request("sortOrder=sideways").unwrap().descending);
    }
}
