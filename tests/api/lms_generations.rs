//! The LMS client's contract against the sandbox in **both** documented generations: the same calls,
//! the same outcomes for the gateway, whichever generation the lender's LMS follows. Where the
//! generations differ on purpose (a key honoured or not), the test says so.

use mkopo::lms::{ErrorCode, Generation, LoanKey, LoanStatus, NewLoan, NewRepayment, UndoOutcome};
use mkopo::sandbox::lms::{Fault, FaultKind, SandboxGeneration};

use crate::helpers::*;

const BOTH: [Generation; 2] = [Generation::Current, Generation::Legacy];

async fn spawn(generation: Generation) -> TestApp {
    TestApp::spawn_with(|s| {
        s.lms.generation = generation;
        s.sandbox.lms.generation =
            if generation == Generation::Legacy { SandboxGeneration::Legacy } else { SandboxGeneration::Current };
    })
    .await
}

fn new_loan(msisdn: &str, principal: &str, reference: &str) -> NewLoan {
    NewLoan {
        customer_external_id: msisdn.into(),
        product_id: "1".into(),
        principal: dec(principal),
        external_id: reference.into(),
    }
}

fn pay(app: &TestApp, amount: &str, key: &str) -> NewRepayment {
    NewRepayment { transaction_amount: dec(amount), transaction_date: app.sandbox.today(), idempotency_key: key.into() }
}

fn ext(reference: &str) -> LoanKey {
    LoanKey::External(reference.into())
}

#[tokio::test]
async fn both_generations_register_lend_repay_close_and_list_the_repayments() {
    for generation in BOTH {
        let app = spawn(generation).await;
        let lms = app.sandbox_client();
        let msisdn = "255712100001";
        lms.ensure_customer(msisdn).await.unwrap();
        let created = lms.create_loan(&new_loan(msisdn, "10000", "L0000000018")).await.unwrap();
        assert_eq!((created.status.clone(), created.total_outstanding()), (LoanStatus::Active, Some(dec("11100"))));
        assert_eq!(lms.active_loans(msisdn).await.unwrap().len(), 1, "{generation:?}");

        let first = lms.post_repayment(&ext("L0000000018"), &pay(&app, "5000", "RCPT-A")).await.unwrap();
        let rest = lms.post_repayment(&ext("L0000000018"), &pay(&app, "6100", "RCPT-B")).await.unwrap();
        let closed = lms.get_loan("L0000000018").await.unwrap().unwrap();
        assert_eq!(closed.status, LoanStatus::ClosedObligationsMet, "{generation:?}");
        assert_eq!((closed.next_due_date, closed.next_due_amount()), (None, None));

        let history = lms.repayments_of(&ext("L0000000018")).await.unwrap().unwrap();
        let ids: Vec<&str> = history.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, [rest.id.as_str(), first.id.as_str()], "{generation:?}: newest first");

        let late = lms.post_repayment(&ext("L0000000018"), &pay(&app, "1", "RCPT-C")).await.unwrap_err();
        assert!(matches!(late.code(), ErrorCode::FailedPrecondition | ErrorCode::Aborted), "{generation:?}: {late}");
        app.stop().await;
    }
}

#[tokio::test]
async fn only_the_current_generation_honours_the_idempotency_key() {
    for generation in BOTH {
        let app = spawn(generation).await;
        let lms = app.sandbox_client();
        lms.ensure_customer("255712100002").await.unwrap();
        lms.create_loan(&new_loan("255712100002", "10000", "L0000000026")).await.unwrap();
        let first = lms.post_repayment(&ext("L0000000026"), &pay(&app, "100", "RCPT-K")).await.unwrap();
        let again = lms.post_repayment(&ext("L0000000026"), &pay(&app, "100", "RCPT-K")).await.unwrap();
        let postings = lms.repayments_of(&ext("L0000000026")).await.unwrap().unwrap().len();
        match generation {
            Generation::Current => assert_eq!((again.id == first.id, postings), (true, 1)),
            // Why the gateway never resends without looking on the loan first.
            Generation::Legacy => assert_eq!((again.id == first.id, postings), (false, 2)),
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn undo_is_confirmed_by_reads_and_resumes_after_a_failure_in_both_generations() {
    for generation in BOTH {
        let app = spawn(generation).await;
        let lms = app.sandbox_client().for_workers();
        lms.ensure_customer("255712100003").await.unwrap();
        lms.create_loan(&new_loan("255712100003", "10000", "L0000000034")).await.unwrap();
        assert_eq!(lms.undo_loan("L0000000034", "payout failed").await.unwrap(), UndoOutcome::Gone, "{generation:?}");
        assert!(lms.get_loan("L0000000034").await.unwrap().is_none());
        assert_eq!(lms.undo_loan("L0000000034", "again").await.unwrap(), UndoOutcome::Gone, "repeatable");

        // The LMS fails half-way down the chain: the next attempt goes on from where the loan stands.
        lms.create_loan(&new_loan("255712100003", "10000", "L0000000059")).await.unwrap();
        let fault =
            Fault { count: 2, ..Fault::new("POST", "/v1/loans/external/*/undo-approval", FaultKind::Unavailable) };
        app.sandbox.inject_fault(fault);
        if generation == Generation::Current {
            app.sandbox.inject_fault(Fault::new("POST", "/v1/loans/external/*/rollback", FaultKind::Internal));
            app.sandbox.inject_fault(Fault::new("POST", "/v1/loans/external/*/rollback", FaultKind::Internal));
        }
        let mut attempts = 0;
        let outcome = loop {
            attempts += 1;
            assert!(attempts <= 5, "{generation:?}: the undo never completed");
            match lms.undo_loan("L0000000059", "payout failed").await {
                Ok(outcome) => break outcome,
                Err(e) => assert!(e.is_transient(), "{generation:?}: {e}"),
            }
        };
        assert_eq!(outcome, UndoOutcome::Gone, "{generation:?}");
        assert!(lms.active_loans("255712100003").await.unwrap().is_empty());
        app.stop().await;
    }
}

#[tokio::test]
async fn a_loan_without_external_id_is_listed_read_and_repaid_by_its_lms_id_in_both_generations() {
    for generation in BOTH {
        let app = spawn(generation).await;
        let lms = app.sandbox_client();
        lms.ensure_customer("255712100004").await.unwrap();
        let id = app.sandbox.seed_loan_without_external_id("255712100004", "1", dec("5000")).unwrap();
        let listed = lms.active_loans("255712100004").await.unwrap();
        assert_eq!((listed.len(), listed[0].key()), (1, LoanKey::Id(id.clone())), "{generation:?}");
        let key = LoanKey::Id(id);
        lms.post_repayment(&key, &pay(&app, "550", "RCPT-N")).await.unwrap();
        assert_eq!(lms.read_loan(&key).await.unwrap().unwrap().total_outstanding(), Some(dec("5000")));
        assert_eq!(lms.repayments_of(&key).await.unwrap().unwrap().len(), 1, "{generation:?}: from the history");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_resent_loan_create_finds_the_committed_loan_in_both_generations() {
    for generation in BOTH {
        let app = spawn(generation).await;
        let lms = app.sandbox_client();
        lms.ensure_customer("255712100005").await.unwrap();
        app.sandbox.inject_fault(Fault::new("POST", "/v1/loans", FaultKind::CommitThenInternal));
        let created = lms.create_loan(&new_loan("255712100005", "10000", "L0000000067")).await.unwrap();
        assert_eq!(created.external_id.as_deref(), Some("L0000000067"), "{generation:?}");
        assert_eq!(lms.active_loans("255712100005").await.unwrap().len(), 1, "{generation:?}: exactly one loan");
        app.stop().await;
    }
}
