//! `/readyz` under a stalled worker and a failing LMS.
