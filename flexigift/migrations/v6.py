"""Version 6: a ledger entry's ``reason`` (an admin's adjustment says why it was made),
and money in each currency's ISO 4217 minor units. Frozen as shipped.

Until now every amount was stored in hundredths, whatever the currency. From
this version an amount is stored in its currency's minor units (JPY has none,
BHD has thousandths), so the amounts of cards, their ledger entries and the
products of issuers in a currency without two decimals are converted:
multiplied for three or four decimals (exact), divided for none (a hundredth
of a yen was never real money; each entry is rounded half to even and the
card's ledger is re-added from its issue, so it stays consistent).
"""
from __future__ import annotations

import decimal

import peewee

from .v1 import GiftCard, Issuer, Product, Transaction

#: The longest reason an adjustment may give.
REASON_LENGTH = 200
#: Decimals of the currencies that do not have two, as ISO 4217 listed them when this shipped.
DECIMALS = {
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}


def apply(db: peewee.Database) -> None:
    db.execute_sql(f'ALTER TABLE "transaction" ADD COLUMN "reason" VARCHAR({REASON_LENGTH})')
    for currency, places in DECIMALS.items():
        if places > 2:
            _scale_up(currency, 10 ** (places - 2))
        else:
            _scale_down(currency)


def _scale_up(currency: str, factor: int) -> None:
    cards = GiftCard.select(GiftCard.id).where(GiftCard.currency_code == currency)
    Transaction.update(amount=Transaction.amount * factor, balance_after=Transaction.balance_after * factor) \
        .where(Transaction.gift_card.in_(cards)).execute()
    GiftCard.update(balance=GiftCard.balance * factor, initial_balance=GiftCard.initial_balance * factor,
                    balance_max=GiftCard.balance_max * factor).where(GiftCard.currency_code == currency).execute()
    issuers = Issuer.select(Issuer.id).where(Issuer.currency_code == currency)
    Product.update(price=Product.price * factor).where(Product.issuer.in_(issuers)).execute()


def _whole(hundredths: int) -> int:
    return int((decimal.Decimal(hundredths) / 100).quantize(decimal.Decimal(1), decimal.ROUND_HALF_EVEN))


def _scale_down(currency: str) -> None:
    for card in GiftCard.select().where(GiftCard.currency_code == currency):
        balance = None
        for entry in Transaction.select().where(Transaction.gift_card == card.id).order_by(Transaction.id):
            amount = _whole(entry.amount)
            balance = amount if balance is None else balance + amount
            Transaction.update(amount=amount, balance_after=balance).where(Transaction.id == entry.id).execute()
        initial = _whole(card.initial_balance)
        GiftCard.update(balance=initial if balance is None else balance, initial_balance=initial,
                        balance_max=None if card.balance_max is None else _whole(card.balance_max)) \
            .where(GiftCard.id == card.id).execute()
    issuers = Issuer.select(Issuer.id).where(Issuer.currency_code == currency)
    for product in Product.select(Product.id, Product.price).where(Product.issuer.in_(issuers)):
        Product.update(price=_whole(product.price)).where(Product.id == product.id).execute()
