# Skrini za USSD za mkopo, Kiswahili. Kila kiasi huonyeshwa kwa kanuni moja (ussd.currency,
# ussd.show_currency): `{ $amount }` ni "TZS 1,000"; `{ MONEY($min, $max) }` ni kiwango chenye sarafu mara
# moja ("TZS 1,000-50,000"; kiasi kimoja vikilingana). Tarehe hufuata ussd.date_format. Bidhaa huitwa kwa
# `product-<namba ya bidhaa ya LMS>` hapa chini, la sivyo kwa jina la LMS. Idadi ni namba (wingi).
# Kila skrini ikae ndani ya herufi 160 za GSM-7: `mkopo check-menus` hupima kila moja.

## Urambazaji na makosa
nav-more = Zaidi
nav-back = Rudi
error-choice = Chaguo si sahihi.
error-not-number = Weka namba tu.
error-min = Kiwango cha chini ni { $limit }.
error-max = Kiwango cha juu ni { $limit }.
error-digits = Weka tarakimu 4.
error-pin-wrong = PIN si sahihi. { $tries ->
    [one] Umebakiza jaribio 1.
   *[other] Umebakiza majaribio { $tries }.
}
error-pin-mismatch = PIN hazifanani. Jaribu tena.

## Skrini za mfumo
msg-timeout = Tunashughulikia ombi lako. Utapokea SMS.
msg-slow = Huduma iko polepole sasa. Tafadhali jaribu tena baada ya dakika chache.
msg-error = Samahani, kuna tatizo. Tafadhali jaribu tena baadaye.
msg-expired = Muda umeisha. Tafadhali piga tena.
msg-ended = Kipindi hiki kimeisha. Tafadhali piga tena.
msg-unsupported = Huduma hii haipatikani hapa.

## Kuendelea
resume-text = Hukumaliza kipindi chako kilichopita.
resume-continue = Endelea
resume-restart = Anza upya

## Usajili
register-text = Karibu Mkopo. Kubali masharti ili kujisajili.
register-accept = Kubali
register-terms = Soma masharti
register-decline = Kataa
terms-text = Mikopo hutumwa kwenye pochi. Lipa kwa wakati. Kiwango chako kinatokana na matumizi ya pesa ya simu.
register-declined-text = Hujajisajili. Piga tena wakati wowote.
registered-text = Umesajiliwa. Karibu!
register-failed-text = Hatukuweza kukusajili sasa. Tafadhali jaribu tena baadaye.
menu-main = Menyu kuu

## PIN
pin-new-text = Chagua PIN ya tarakimu 4 kwa mikopo:
pin-repeat-text = Weka PIN tena:
pin-saved-text = PIN yako imewekwa.
pin-locked-text = Umekosea PIN mara nyingi. Jaribu tena baada ya saa moja.

## Menyu kuu
main-text = Mkopo
main-borrow = Kopa
main-balance = Salio la mkopo
main-repay = Lipa mkopo
main-history = Malipo yangu
main-language = Lugha

## Kukopa
borrow-has-loan-text = Una mkopo wa kulipa kwanza. Piga tena baada ya kuulipa.
borrow-unscored-text = Samahani, bado hujastahili mkopo. Endelea kutumia pesa ya simu na ujaribu baadaye.
borrow-no-limit-text = Samahani, hakuna mkopo unaopatikana kwako sasa.
borrow-inactive-text = Akaunti yako haiko hai. Tafadhali wasiliana na huduma kwa wateja.
borrow-products-text = Chagua mkopo:
borrow-product-row = { $n }. { $name } ({ MONEY($min, $max) })
borrow-amount-text = { $product_name }. Chagua kiasi:
borrow-amount-row = { $n }. { $amount }
borrow-other = Kiasi kingine
borrow-other-text = Weka kiasi ({ MONEY($product_min, $product_max) }):
borrow-confirm-text = Kopa { $amount }
    Gharama: { $charges }
    Lipa { $total } kabla ya { $due }
confirm = Thibitisha
cancel = Ghairi
borrow-pin-text = Weka PIN yako:
borrow-done-text = { $amount } imetumwa kwenye pochi yako. Lipa { $total } kabla ya { $due }. Kumb { $reference }
borrow-pending-text = Mkopo wako wa { $amount } unatumwa. Utapokea SMS. Kumb { $reference }
borrow-failed-text = Samahani, hatukuweza kutuma mkopo wako. Huna deni. Tafadhali jaribu tena baadaye.
cancelled-text = Imeghairiwa. Hakuna kilichofanyika.

## Salio
balance-text = { $count ->
    [one] Mkopo wako:
   *[other] Mikopo yako ({ $count }):
}
balance-row = { $n }. { $product }: { $outstanding }{ $overdue ->
        [yes] {" "}IMECHELEWA
       *[no] {""}
    }
balance-loan-text = { $loan_product }
    Deni: { $loan_outstanding }
    Awamu ijayo: { $loan_next_amount } kabla ya { $loan_next_date }{ $loan_overdue ->
        [yes] {""}
            IMECHELEWA
       *[no] {""}
    }
balance-repay = Lipa
no-loans-text = Huna mkopo unaoendelea.

## Kulipa
repay-loans-text = Chagua mkopo wa kulipa:
loan-row = { $n }. { $product }: { $outstanding }
repay-how-text = Deni: { $loan_outstanding }
repay-full = Yote { $loan_outstanding }
repay-next = Awamu ijayo { $loan_next_amount }
repay-other = Kiasi kingine
repay-other-text = Weka kiasi ({ MONEY($loan_repay_min, $loan_outstanding) }):
repay-confirm-text = Lipa { $amount } kwa { $loan_product }?
repay-requested-text = Utapokea ujumbe wa pochi kulipa { $amount }. Weka PIN ya pochi kukubali.

## Malipo yangu
history-loans-text = Malipo ya mkopo upi?
history-loan-row = { $n }. { $product }: { $closed ->
        [yes] umelipwa
       *[no] { $outstanding }
    }
history-no-loans-text = Huna mkopo unaoendelea wala wa hivi karibuni.
history-text = Malipo ya karibuni:
history-row = { $date }: { $amount }
history-none-text = Bado hakuna malipo kwa mkopo huu.

## Bidhaa, kwa namba ya bidhaa ya LMS (bila jina hapa, jina la LMS huonyeshwa)
product-1 = Mkopo wa Halotel wa Siku 7
product-2 = Mkopo wa Halotel wa Siku 30
product-3 = Mkopo wa Halotel wa Miezi 3
product-unnamed = Mkopo

## Lugha
language-text = Chagua lugha:
language-en = English
language-sw = Kiswahili
