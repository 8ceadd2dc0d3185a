"""Fixtures for the policy engine tests: the shop's policy file and an order factory whose dates
are given as days before a fixed `POLICY_TODAY`."""

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

import pytest

from bot.domain.vocabulary import OrderStatus, PaymentMethod, ProductCategory
from bot.policy import OrderFacts, PolicyConfig, load_policy

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHOP_POLICY_FILE = PROJECT_ROOT / "shop" / "policy.yml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY_TODAY = date(2025, 6, 16)  # an ordinary Monday, far from public holidays
POLICY_NOW = datetime(2025, 6, 16, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(scope="session")
def shop_policy() -> PolicyConfig:
    return load_policy(SHOP_POLICY_FILE)


@pytest.fixture
def policy_order():
    """policy_order(category, delivered=3, shipped=None, ...) -> OrderFacts; numbers are days ago.

    The status follows the dates (delivered, in transit, awaiting shipment) unless given."""

    def make(
        category: ProductCategory = ProductCategory.DIGITAL,
        *,
        delivered: Optional[int] = 3,
        shipped: Optional[int] = None,
        paid: Optional[int] = None,
        cross_border: bool = False,
        status: Optional[OrderStatus] = None,
        total: float = 500.0,
        payment: PaymentMethod = PaymentMethod.ONLINE,
        promised: Optional[int] = None,
        paid_at: Optional[date] = None,
    ) -> OrderFacts:
        def ago(days: Optional[int]) -> Optional[date]:
            return None if days is None else POLICY_TODAY - timedelta(days=days)

        if shipped is None and delivered is not None:
            shipped = delivered + 1
        if paid is None and shipped is not None:
            paid = shipped + 1
        if status is None:
            status = (
                OrderStatus.DELIVERED
                if delivered is not None
                else OrderStatus.IN_TRANSIT
                if shipped is not None
                else OrderStatus.AWAITING_SHIPMENT
            )
        return OrderFacts(
            order_id="1234567890123456",
            cross_border=cross_border,
            payment_method=payment,
            status=status,
            paid_at=paid_at if paid_at is not None else ago(paid),
            shipped_at=ago(shipped),
            delivered_at=ago(delivered),
            promised_delivery_days=promised,
            order_total=total,
            item_category=category,
            item_name="测试商品",
            item_price=total,
        )

    return make
