"""Closed vocabularies of the registry, stored by value, each with its Vietnamese label."""

from enum import StrEnum


class UnitLevel(StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"


class ProducerKind(StrEnum):
    COOPERATIVE = "cooperative"  # hợp tác xã, tổ hợp tác
    ENTERPRISE = "enterprise"  # doanh nghiệp
    HOUSEHOLD = "household_business"  # hộ kinh doanh
    OTHER = "other"


PRODUCER_KIND_VI = {
    ProducerKind.COOPERATIVE: "Hợp tác xã",
    ProducerKind.ENTERPRISE: "Doanh nghiệp",
    ProducerKind.HOUSEHOLD: "Hộ kinh doanh",
    ProducerKind.OTHER: "Khác",
}


class ProductGroup(StrEnum):
    """The six OCOP product groups of Decision 148/QĐ-TTg (2023)."""

    FOOD = "food"
    BEVERAGES = "beverages"
    HERBAL = "herbal"
    HANDICRAFTS = "handicrafts"
    ORNAMENTAL = "ornamental"
    TOURISM = "tourism"


PRODUCT_GROUP_VI = {
    ProductGroup.FOOD: "Thực phẩm",
    ProductGroup.BEVERAGES: "Đồ uống",
    ProductGroup.HERBAL: "Thảo dược",
    ProductGroup.HANDICRAFTS: "Thủ công mỹ nghệ",
    ProductGroup.ORNAMENTAL: "Sinh vật cảnh",
    ProductGroup.TOURISM: "Dịch vụ du lịch cộng đồng, du lịch sinh thái và điểm du lịch",
}
PRODUCT_GROUP_EN = {
    ProductGroup.FOOD: "Food",
    ProductGroup.BEVERAGES: "Beverages",
    ProductGroup.HERBAL: "Herbal products",
    ProductGroup.HANDICRAFTS: "Handicrafts",
    ProductGroup.ORNAMENTAL: "Ornamental plants and animals",
    ProductGroup.TOURISM: "Community, eco- and destination tourism",
}


class Platform(StrEnum):
    SHOPEE = "shopee"
    LAZADA = "lazada"
    TIKI = "tiki"
    TIKTOK_SHOP = "tiktok_shop"
    SENDO = "sendo"
    POSTMART = "postmart"
    VOSO = "voso"
    FACEBOOK = "facebook"
    ZALO = "zalo"
    OWN_WEBSITE = "own_website"
    PROVINCE_OCOP_SITE = "province_ocop_site"
    OTHER = "other"


# The hosts a marketplace's own listings live on: a listing named for one must point there (a
# public page and the GS1 resolver send shoppers to it from the province's own domain).
PLATFORM_HOSTS: dict[Platform, tuple[str, ...]] = {
    Platform.SHOPEE: ("shopee.vn",),
    Platform.LAZADA: ("lazada.vn",),
    Platform.TIKI: ("tiki.vn",),
    Platform.TIKTOK_SHOP: ("tiktok.com",),
    Platform.SENDO: ("sendo.vn",),
    Platform.POSTMART: ("postmart.vn",),
    Platform.VOSO: ("voso.vn",),
    Platform.FACEBOOK: ("facebook.com", "fb.com"),
    Platform.ZALO: ("zalo.me", "zalo.vn"),
}


class CertificationScheme(StrEnum):
    VIETGAP = "vietgap"
    GLOBALGAP = "globalgap"
    ORGANIC_VN = "organic_vn"  # TCVN 11041
    ORGANIC_EU = "organic_eu"
    ORGANIC_USDA = "organic_usda"
    RAINFOREST_ALLIANCE = "rainforest_alliance"
    FOUR_C = "4c"
    FAIRTRADE = "fairtrade"
    OTHER = "other"
