//! A loan's status as the LMS spells it (docs/lms.md), parsed case-insensitively; an unknown status is
//! kept as its text, and the gateway acts only on the ones it knows.

use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoanStatus {
    Active,
    ClosedObligationsMet,
    Overpaid,
    ClosedWrittenOff,
    Approved,
    SubmittedPendingApproval,
    Rejected,
    Withdrawn,
    Other(String),
}

impl LoanStatus {
    /// Fully repaid, overpaid or written off: nothing more can be collected or rolled back.
    pub fn is_settled(&self) -> bool {
        matches!(self, Self::ClosedObligationsMet | Self::Overpaid | Self::ClosedWrittenOff)
    }

    pub fn parse(s: &str) -> Self {
        match s.trim().to_ascii_lowercase().as_str() {
            "active" => Self::Active,
            "closed (obligations met)" => Self::ClosedObligationsMet,
            "overpaid" => Self::Overpaid,
            "closed (written off)" => Self::ClosedWrittenOff,
            "approved" => Self::Approved,
            "submitted and pending approval" => Self::SubmittedPendingApproval,
            "rejected" => Self::Rejected,
            "withdrawn by applicant" => Self::Withdrawn,
            _ => Self::Other(s.to_owned()),
        }
    }

    /// The exact string the LMS uses, e.g. for the `status` filter.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Active => "Active",
            Self::ClosedObligationsMet => "Closed (obligations met)",
            Self::Overpaid => "Overpaid",
            Self::ClosedWrittenOff => "Closed (written off)",
            Self::Approved => "Approved",
            Self::SubmittedPendingApproval => "Submitted and pending approval",
            Self::Rejected => "Rejected",
            Self::Withdrawn => "Withdrawn by applicant",
            Self::Other(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for LoanStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| Self::parse(&s))
    }
}
