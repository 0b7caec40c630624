# mkopo USSD screens, English. Amounts and dates arrive formatted; counts are numbers (plural forms).
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
borrow-product-row = { $n }. { $name } ({ $min }-{ $max })
borrow-amount-text = { $product_name }. Choose amount ({ $currency }):
borrow-amount-row = { $n }. { $amount }
borrow-other = Other amount
borrow-other-text = Enter amount ({ $product_min }-{ $product_max } { $currency }):
borrow-confirm-text = Borrow { $currency } { $amount }
    Charges: { $charges }
    Repay { $total } by { $due }
confirm = Confirm
cancel = Cancel
borrow-pin-text = Enter your PIN:
borrow-done-text = { $currency } { $amount } has been sent to your wallet. Repay { $total } by { $due }. Ref { $reference }
borrow-pending-text = Your loan of { $currency } { $amount } is being sent. You will get an SMS. Ref { $reference }
borrow-failed-text = Sorry, we could not send your loan. Nothing is owed. Please try again later.
cancelled-text = Cancelled. Nothing was done.

## Balance
balance-text = { $count ->
    [one] Your loan:
   *[other] Your { $count } loans:
}
balance-row = { $n }. { $product }: owe { $outstanding }
    Next { $next_amount } by { $next_date }{ $overdue ->
        [yes] {" "}OVERDUE
       *[no] {""}
    }
no-loans-text = You have no active loan.

## Repay
repay-loans-text = Choose the loan to repay:
loan-row = { $n }. { $product }: { $outstanding }
repay-how-text = Owed: { $loan_outstanding }
repay-full = Full { $loan_outstanding }
repay-next = Next { $loan_next_amount }
repay-other = Other amount
repay-other-text = Enter amount ({ $repay_min }-{ $loan_outstanding }):
repay-confirm-text = Pay { $currency } { $amount } for { $loan_product }?
repay-requested-text = You will get a wallet prompt to pay { $currency } { $amount }. Enter your wallet PIN to approve.

## My payments
history-loans-text = Payments for which loan?
history-text = Recent payments:
history-row = { $date }: { $amount }
history-none-text = No payments on this loan yet.

## Language
language-text = Choose language:
language-en = English
language-sw = Kiswahili
