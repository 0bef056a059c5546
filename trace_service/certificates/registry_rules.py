"""What the certificates layer holds over registry records, registered with the registry
(``registry/hooks.py``), which sits below and imports nothing of certificates:

- a product with OCOP evaluations or certificates is not deleted: its history is kept;
- what the OCOP council rated (name, product group, GTIN) is the province office's to change
  once the product holds a certificate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from trace_service.certificates.models import Certificate, Evaluation
from trace_service.errors import Forbidden
from trace_service.principal import Principal
from trace_service.registry import hooks
from trace_service.registry.models import Product

for _column in (Evaluation.product_id, Certificate.product_id):
    hooks.refuse_delete_while_referred(
        Product,
        _column,
        "Sản phẩm đã được đánh giá OCOP; lịch sử được giữ lại, không thể xóa.",
        "The product has OCOP evaluations or certificates; its history is kept.",
    )

# What the OCOP council rated: a producer may not change it under a certificate's star.
CERTIFIED_IDENTITY = ("name_vi", "product_group", "gtin")


@hooks.check_product_changes
def check_certified_identity(
    session: Session, actor: Principal, product: Product, data: Mapping[str, Any]
) -> None:
    if not actor.is_producer:
        return
    changed = [k for k in CERTIFIED_IDENTITY if k in data and data[k] != getattr(product, k)]
    certified = session.scalar(select(exists().where(Certificate.product_id == product.id)))
    if changed and certified:
        raise Forbidden(
            "Sản phẩm đã được chứng nhận OCOP: muốn đổi tên, nhóm sản phẩm hoặc mã GTIN, "
            "liên hệ văn phòng OCOP tỉnh (có thể phải đánh giá lại).",
            f"The product is OCOP-certified; only the province office may change "
            f"{', '.join(changed)} (a different product needs its own evaluation).",
        )
