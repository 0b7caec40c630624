# mkopo USSD screens, English. Every amount is shown by one rule (ussd.currency, ussd.show_currency):
# `{ $amount }` reads "TZS 1,000"; `{ MONEY($min, $max) }` is a range with the currency once
# ("TZS 1,000-50,000"; one amount when both are equal). Dates follow ussd.date_format. A product is
# named by `product-<LMS product id>` below, else by the LMS. Counts are numbers (plural forms).
# Keep every screen within 160 GSM-7 characters: `mkopo check-menus` renders each one at its widest.

## Navigation and errors
nav-more = More
nav-back = Back
error-choice = Invalid choice.
error-not-number = Enter numbers only.
error-min = The minimum is { $limit }.
error-max = The maximum is { $limit }.
error-digits = Enter 4 digits.
error-pin-wrong = Wrong PIN. { $tries ->
    [one] 1 try left.
   *[other] { $tries } tries left.
}
error-pin-mismatch = The PINs did not match. Try again.

## System screens
msg-timeout = We are still working on your request. You will get an SMS.
msg-slow = The service is slow right now. Please try again in a few minutes.
msg-error = Sorry, something went wrong. Please try again later.
msg-expired = Session expired. Please dial again.
msg-ended = This session has ended. Please dial again.
msg-unsupported = This service is not available here.

## Resume
resume-text = You did not finish your last session.
resume-continue = Continue
resume-restart = Start again

## Registration
register-text = Welcome to Mkopo loans. Accept the terms to register.
register-accept = Accept
register-terms = Read terms
register-decline = Decline
terms-text = Loans go to your wallet. Repay by the due date. Your limit comes from your mobile money use.
register-declined-text = You have not registered. Dial again any time.
registered-text = You are registered. Welcome!
register-failed-text = We could not register you now. Please try again later.
menu-main = Main menu

## PIN
pin-new-text = Choose a 4-digit PIN for loans:
pin-repeat-text = Enter the PIN again:
pin-saved-text = Your PIN is set.
pin-locked-text = Too many wrong PINs. Try again in an hour.

## Main menu
main-text = Mkopo
main-borrow = Borrow
main-balance = My balance
main-repay = Repay
main-history = My payments
main-language = Language

## Borrow
borrow-has-loan-text = You have a loan to repay first. Dial again after repaying it.
borrow-unscored-text = Sorry, you do not qualify for a loan yet. Keep using mobile money and try later.
borrow-no-limit-text = Sorry, no loan is available to you right now.
borrow-inactive-text = Your account is not active. Please contact customer care.
borrow-products-text = Choose a loan:
borrow-product-row = { $n }. { $name } ({ MONEY($min, $max) })
borrow-amount-text = { $product_name }. Choose amount:
borrow-amount-row = { $n }. { $amount }
borrow-other = Other amount
borrow-other-text = Enter amount ({ MONEY($product_min, $product_max) }):
borrow-confirm-text = Borrow { $amount }
    Charges: { $charges }
    Repay { $total } by { $due }
confirm = Confirm
cancel = Cancel
borrow-pin-text = Enter your PIN:
borrow-done-text = { $amount } has been sent to your wallet. Repay { $total } by { $due }. Ref { $reference }
borrow-pending-text = Your loan of { $amount } is being sent. You will get an SMS. Ref { $reference }
borrow-failed-text = Sorry, we could not send your loan. Nothing is owed. Please try again later.
cancelled-text = Cancelled. Nothing was done.

## Balance
balance-text = { $count ->
    [one] Your loan:
   *[other] Your { $count } loans:
}
balance-row = { $n }. { $product }: { $outstanding }{ $overdue ->
        [yes] {" "}OVERDUE
       *[no] {""}
    }
balance-loan-text = { $loan_product }
    Owed: { $loan_outstanding }
    Next: { $loan_next_amount } by { $loan_next_date }{ $loan_overdue ->
        [yes] {""}
            OVERDUE
       *[no] {""}
    }
balance-repay = Repay
no-loans-text = You have no active loan.

## Repay
repay-loans-text = Choose the loan to repay:
loan-row = { $n }. { $product }: { $outstanding }
repay-how-text = Owed: { $loan_outstanding }
repay-full = Full { $loan_outstanding }
repay-next = Next { $loan_next_amount }
repay-other = Other amount
repay-other-text = Enter amount ({ MONEY($loan_repay_min, $loan_outstanding) }):
repay-confirm-text = Pay { $amount } for { $loan_product }?
repay-requested-text = You will get a wallet prompt to pay { $amount }. Enter your wallet PIN to approve.

## My payments
history-loans-text = Payments for which loan?
history-loan-row = { $n }. { $product }: { $closed ->
        [yes] repaid
       *[no] { $outstanding }
    }
history-no-loans-text = You have no active or recent loan.
history-text = Recent payments:
history-row = { $date }: { $amount }
history-none-text = No payments on this loan yet.

## Products, by LMS product id (without one, the LMS's name is shown)
product-1 = Halotel 7-Day Loan
product-2 = Halotel 30-Day Loan
product-3 = Halotel 3-Month Loan
product-unnamed = Loan

## Language
language-text = Choose language:
language-en = English
language-sw = Kiswahili
