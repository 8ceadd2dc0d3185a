"""Small builders of interchange orders for the db tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict

from bot.config import PROJECT_ROOT

DEMO_ORDERS_FILE = PROJECT_ROOT / "shop" / "demo_orders.json"

_BASE_ORDER: Dict[str, Any] = {
    "order_id": "1111222233334444",
    "buyer_name": "测试买家",
    "buyer_phone": "13800001234",
    "cross_border": False,
    "origin_country": None,
    "payment_method": "online",
    "status": "delivered",
    "placed_days_ago": 6,
    "shipped_days_ago": 5,
    "delivered_days_ago": 3,
    "promised_delivery_days": 3,
    "carrier": "顺丰速运",
    "tracking_number": "SF0000000001",
    "items": [{"sku": "SKU-A", "name": "测试蓝牙音箱", "category": "digital", "unit_price": 199.0, "quantity": 1}],
    "tracking_events": [{"days_ago": 5, "text": "已揽收"}, {"days_ago": 3, "text": "已签收"}],
    "total": 199.0,
}


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP = _Drop()  # interchange_order(field=DROP) removes the field


def interchange_order(**overrides: Any) -> Dict[str, Any]:
    order = copy.deepcopy(_BASE_ORDER)
    for name, value in overrides.items():
        if value is DROP:
            order.pop(name, None)
        else:
            order[name] = value
    return order


def load_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))
