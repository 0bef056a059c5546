"""Plain data behind the Đắk Nông demo: what is grown and made where, and by whom.

Nothing here touches the database. ``loader`` picks from these tables with a seeded
``random.Random``. Product names may hold the placeholders ``{brand}`` (the producer's brand)
and ``{place}`` (the short name of the producer's commune); a standard written ``{tccs}`` is
replaced by the producer's own standard (tiêu chuẩn cơ sở), e.g. "TCCS 01:2023/HTXĐM".

Standards cited (checked against public TCVN listings): TCVN 4193:2014 cà phê nhân (green
coffee), TCVN 5250:2015 cà phê rang, TCVN 5251:2015 cà phê bột, TCVN 7036:2008 hạt tiêu đen,
TCVN 12605:2019 mật ong, TCVN 11888:2017 gạo trắng, TCVN 4850:2010 nhân hạt điều,
TCVN 10725:2015 bột cacao, TCVN 11892-1:2017 VietGAP trồng trọt, TCVN 7800:2017 nhà ở có
phòng cho khách du lịch thuê (homestay);
QCVN 8-2:2011/BYT (kim loại nặng) and QCVN 8-3:2012/BYT (vi sinh vật) for food safety.
"""

from __future__ import annotations

from dataclasses import dataclass

from trace_service.registry.enums import CertificationScheme, Platform, ProductGroup

OWN_STANDARD = "{tccs}"
HEAVY_METALS = "QCVN 8-2:2011/BYT"
MICROBES = "QCVN 8-3:2012/BYT"
VIETGAP_STANDARD = "TCVN 11892-1:2017 (VietGAP)"


@dataclass(frozen=True)
class ProductTemplate:
    name_vi: str
    name_en: str
    group: ProductGroup
    crops: tuple[str, ...]
    shelf_life_days: int | None
    standards: tuple[str, ...]
    description: str
    gtin_share: float = 0.9  # how often such goods carry a GS1 barcode
    listed: bool = True  # sold on e-commerce platforms at all


@dataclass(frozen=True)
class Specialty:
    key: str
    sector_vi: str  # the trade word in company names: "Cà phê", "Nông sản", …
    producers: int  # how many demo producers make it
    districts: tuple[str, ...]  # district keys of units_data, repeated to weight them
    area_crops: tuple[tuple[str, ...], ...]  # crop mixes of its raw-material areas
    certifications: tuple[CertificationScheme, ...]
    area_name: str  # a shared area: "{place}" is the commune's short name
    plot_name: str  # a household's plot: "{hamlet}" is its thôn or bon
    products: tuple[ProductTemplate, ...]


_F = ProductGroup.FOOD
_B = ProductGroup.BEVERAGES
_H = ProductGroup.HERBAL
_C = ProductGroup.HANDICRAFTS
_O = ProductGroup.ORNAMENTAL
_T = ProductGroup.TOURISM
_VG = CertificationScheme.VIETGAP
_GG = CertificationScheme.GLOBALGAP
_OVN = CertificationScheme.ORGANIC_VN
_OEU = CertificationScheme.ORGANIC_EU
_OUS = CertificationScheme.ORGANIC_USDA
_RA = CertificationScheme.RAINFOREST_ALLIANCE
_4C = CertificationScheme.FOUR_C
_FT = CertificationScheme.FAIRTRADE

ROBUSTA = "cà phê vối"

COFFEE = Specialty(
    key="coffee",
    sector_vi="Cà phê",
    producers=24,
    districts=(
        "dn.dakmil",
        "dn.dakmil",
        "dn.dakmil",
        "dn.daksong",
        "dn.daksong",
        "dn.cujut",
        "dn.krongno",
        "dn.dakrlap",
        "dn.tuyduc",
        "dn.dakglong",
        "dn.gianghia",
    ),
    area_crops=(
        (ROBUSTA,),
        (ROBUSTA,),
        (ROBUSTA, "hồ tiêu"),
        (ROBUSTA, "sầu riêng"),
        (ROBUSTA, "bơ"),
    ),
    certifications=(_4C, _4C, _RA, _VG, _OVN, _FT),
    area_name="Vùng nguyên liệu cà phê {place}",
    plot_name="Vườn cà phê {hamlet}",
    products=(
        ProductTemplate(
            "Cà phê bột nguyên chất {brand}",
            "{brand} pure ground Robusta coffee",
            _B,
            (ROBUSTA,),
            365,
            ("TCVN 5251:2015", OWN_STANDARD, HEAVY_METALS),
            "Cà phê Robusta trồng trên đất đỏ bazan, thu hái quả chín, phơi trên giàn, rang mộc "
            "không tẩm ướp hương liệu rồi xay mịn. Nước pha màu nâu cánh gián, vị đậm, hậu ngọt.",
        ),
        ProductTemplate(
            "Cà phê hạt rang {brand}",
            "{brand} roasted coffee beans",
            _B,
            (ROBUSTA,),
            365,
            ("TCVN 5250:2015", OWN_STANDARD),
            "Hạt cà phê Robusta chọn lọc, rang ở mức vừa bằng máy rang trống, đóng túi có van "
            "một chiều giữ hương. Phù hợp pha phin, pha máy và cold brew.",
        ),
        ProductTemplate(
            "Cà phê Robusta đặc sản {brand}",
            "{brand} fine Robusta specialty coffee",
            _B,
            (ROBUSTA,),
            270,
            ("TCVN 5250:2015", OWN_STANDARD),
            "Chỉ hái quả chín trên 95%, sơ chế ướt và honey tại vườn, rang theo mẻ nhỏ. Điểm "
            "thử nếm từ 80 trở lên theo thang Fine Robusta, hương sô-cô-la và trái cây chín.",
        ),
        ProductTemplate(
            "Cà phê phin giấy {brand}",
            "{brand} drip-bag coffee",
            _B,
            (ROBUSTA,),
            365,
            ("TCVN 5251:2015", OWN_STANDARD, MICROBES),
            "Cà phê bột rang mộc đóng trong túi lọc dùng một lần, mỗi túi 12 g, tiện mang theo "
            "khi đi làm, đi du lịch.",
        ),
        ProductTemplate(
            "Cà phê hòa tan 3 trong 1 {brand}",
            "{brand} 3-in-1 instant coffee",
            _B,
            (ROBUSTA,),
            540,
            (OWN_STANDARD, HEAVY_METALS, MICROBES),
            "Cà phê hòa tan phối trộn đường và bột kem thực vật, hộp 18 gói x 16 g, hòa tan "
            "nhanh trong nước nóng hoặc nước đá.",
        ),
        ProductTemplate(
            "Cà phê nhân xanh Robusta {brand}",
            "{brand} green Robusta coffee beans",
            _F,
            (ROBUSTA,),
            365,
            ("TCVN 4193:2014", OWN_STANDARD),
            "Cà phê nhân sàng 18, độ ẩm dưới 12,5%, tỷ lệ hạt lỗi thấp, bao đay 60 kg cho "
            "xưởng rang và khách xuất khẩu.",
            gtin_share=0.5,
        ),
    ),
)

PEPPER = Specialty(
    key="pepper",
    sector_vi="Nông sản",
    producers=10,
    districts=(
        "dn.daksong",
        "dn.daksong",
        "dn.daksong",
        "dn.dakmil",
        "dn.dakmil",
        "dn.cujut",
        "dn.cujut",
        "dn.krongno",
        "dn.dakrlap",
        "dn.tuyduc",
    ),
    area_crops=(("hồ tiêu",), ("hồ tiêu", ROBUSTA)),
    certifications=(_VG, _OEU, _OUS, _RA, _GG),
    area_name="Vùng nguyên liệu hồ tiêu {place}",
    plot_name="Vườn hồ tiêu {hamlet}",
    products=(
        ProductTemplate(
            "Hồ tiêu đen {brand}",
            "{brand} black pepper",
            _F,
            ("hồ tiêu",),
            730,
            ("TCVN 7036:2008", OWN_STANDARD),
            "Tiêu đen trồng trên đất đỏ bazan, hạt chắc, dung trọng từ 550 g/l, cay nồng, "
            "thơm. Canh tác theo quy trình giảm thuốc bảo vệ thực vật, phơi sấy sạch.",
        ),
        ProductTemplate(
            "Tiêu đỏ {brand}",
            "{brand} red peppercorns",
            _F,
            ("hồ tiêu",),
            540,
            (OWN_STANDARD, HEAVY_METALS),
            "Hái riêng những chùm tiêu chín đỏ trên cây, phơi sấy lạnh giữ màu đỏ sẫm; vị cay "
            "dịu, ngọt hậu, dùng cho món nướng và sốt.",
        ),
        ProductTemplate(
            "Tiêu sọ {brand}",
            "{brand} white pepper",
            _F,
            ("hồ tiêu",),
            730,
            (OWN_STANDARD, HEAVY_METALS),
            "Tiêu chín ngâm bóc vỏ, phơi khô thành hạt trắng ngà; mùi thơm thanh, cay sâu, dùng "
            "cho cháo, súp và món hấp.",
        ),
        ProductTemplate(
            "Tiêu đen xay {brand}",
            "{brand} ground black pepper",
            _F,
            ("hồ tiêu",),
            540,
            (OWN_STANDARD, MICROBES),
            "Tiêu đen chọn lọc xay vừa, đóng hũ thủy tinh có nắp rắc, giữ trọn vị cay thơm.",
        ),
    ),
)

MACADAMIA = Specialty(
    key="macadamia",
    sector_vi="Mắc ca",
    producers=6,
    districts=(
        "dn.tuyduc",
        "dn.tuyduc",
        "dn.krongno",
        "dn.krongno",
        "dn.daksong",
        "dn.dakglong",
        "dn.dakmil",
    ),
    area_crops=(("mắc ca",), ("mắc ca", ROBUSTA)),
    certifications=(_VG, _OVN, _GG),
    area_name="Vùng nguyên liệu mắc ca {place}",
    plot_name="Vườn mắc ca {hamlet}",
    products=(
        ProductTemplate(
            "Hạt mắc ca sấy nứt vỏ {brand}",
            "{brand} cracked-shell roasted macadamia nuts",
            _F,
            ("mắc ca",),
            270,
            (OWN_STANDARD, HEAVY_METALS, MICROBES),
            "Mắc ca Tây Nguyên phơi già, sấy nhiệt thấp nhiều ngày rồi tạo khe nứt, kèm dụng cụ "
            "tách vỏ. Nhân béo, giòn, thơm bùi.",
        ),
        ProductTemplate(
            "Nhân mắc ca sấy {brand}",
            "{brand} dried macadamia kernels",
            _F,
            ("mắc ca",),
            240,
            (OWN_STANDARD, MICROBES),
            "Nhân mắc ca tách vỏ, phân loại nhân nguyên, sấy giòn không dầu, hút chân không.",
        ),
        ProductTemplate(
            "Dầu mắc ca ép lạnh {brand}",
            "{brand} cold-pressed macadamia oil",
            _F,
            ("mắc ca",),
            540,
            (OWN_STANDARD, HEAVY_METALS),
            "Dầu ép lạnh từ nhân mắc ca, lọc tự nhiên, giàu axit béo omega-7 và omega-9; dùng "
            "trộn salad, nấu ăn và dưỡng da.",
        ),
    ),
)

AVOCADO = Specialty(
    key="avocado",
    sector_vi="Nông sản",
    producers=4,
    districts=("dn.dakrlap", "dn.dakrlap", "dn.gianghia", "dn.daksong", "dn.dakmil"),
    area_crops=(("bơ",), ("bơ", ROBUSTA)),
    certifications=(_VG, _GG),
    area_name="Vùng nguyên liệu bơ {place}",
    plot_name="Vườn bơ {hamlet}",
    products=(
        ProductTemplate(
            "Bơ booth {brand}",
            "{brand} Booth avocado",
            _F,
            ("bơ",),
            10,
            (OWN_STANDARD,),
            "Bơ booth chín muộn, trái to 500–900 g, vỏ xanh, cơm vàng dẻo, ít xơ; thu hoạch "
            "đúng độ già, đóng thùng carton có mã truy xuất.",
            gtin_share=0.5,
        ),
        ProductTemplate(
            "Bơ sáp {brand}",
            "{brand} butter avocado",
            _F,
            ("bơ",),
            7,
            (OWN_STANDARD,),
            "Bơ sáp trồng trên đất bazan, cơm vàng, dẻo, béo ngậy; tuyển chọn trái đều, không "
            "dùng hóa chất giấm chín.",
            gtin_share=0.4,
        ),
        ProductTemplate(
            "Bơ 034 {brand}",
            "{brand} 034 avocado",
            _F,
            ("bơ",),
            10,
            (OWN_STANDARD, VIETGAP_STANDARD),
            "Giống bơ 034 trái dài, vỏ mỏng, hạt nhỏ, cơm dày; chín rải vụ từ tháng 6 đến tháng 9.",
            gtin_share=0.5,
        ),
    ),
)

DURIAN = Specialty(
    key="durian",
    sector_vi="Nông sản",
    producers=5,
    districts=(
        "dn.dakrlap",
        "dn.dakrlap",
        "dn.tuyduc",
        "dn.tuyduc",
        "dn.krongno",
        "dn.dakmil",
        "dn.daksong",
    ),
    area_crops=(("sầu riêng",), ("sầu riêng", ROBUSTA)),
    certifications=(_VG, _GG, _VG),
    area_name="Vùng nguyên liệu sầu riêng {place}",
    plot_name="Vườn sầu riêng {hamlet}",
    products=(
        ProductTemplate(
            "Sầu riêng Ri6 {brand}",
            "{brand} Ri6 durian",
            _F,
            ("sầu riêng",),
            7,
            (OWN_STANDARD, VIETGAP_STANDARD),
            "Sầu riêng Ri6 cơm vàng, hạt lép, vị béo ngọt; cắt trái đủ tuổi, vùng trồng có mã "
            "số phục vụ xuất khẩu.",
            gtin_share=0.4,
        ),
        ProductTemplate(
            "Sầu riêng Dona {brand}",
            "{brand} Monthong durian",
            _F,
            ("sầu riêng",),
            7,
            (OWN_STANDARD, VIETGAP_STANDARD),
            "Sầu riêng Dona (Monthong) trái lớn, múi to, cơm dày vàng nhạt, ngọt thanh; đóng "
            "thùng theo tiêu chuẩn xuất khẩu.",
            gtin_share=0.4,
        ),
        ProductTemplate(
            "Sầu riêng sấy thăng hoa {brand}",
            "{brand} freeze-dried durian",
            _F,
            ("sầu riêng",),
            365,
            (OWN_STANDARD, MICROBES),
            "Múi sầu riêng chín cây sấy thăng hoa, giòn xốp, giữ nguyên mùi vị, không đường, "
            "không chất bảo quản.",
        ),
        ProductTemplate(
            "Cơm sầu riêng cấp đông {brand}",
            "{brand} frozen durian pulp",
            _F,
            ("sầu riêng",),
            365,
            (OWN_STANDARD, MICROBES),
            "Cơm sầu riêng tách hạt, cấp đông nhanh ở -35 °C, hộp 500 g; dùng làm kem, bánh, "
            "sinh tố.",
        ),
    ),
)

HONEY = Specialty(
    key="honey",
    sector_vi="Ong mật",
    producers=4,
    districts=("dn.cujut", "dn.cujut", "dn.krongno", "dn.dakmil", "dn.dakrlap"),
    area_crops=((ROBUSTA,), ("điều",), (ROBUSTA, "điều")),
    certifications=(_VG, _OVN),
    area_name="Vùng nuôi ong {place}",
    plot_name="Vườn ong {hamlet}",
    products=(
        ProductTemplate(
            "Mật ong hoa cà phê {brand}",
            "{brand} coffee blossom honey",
            _F,
            (ROBUSTA,),
            730,
            ("TCVN 12605:2019", OWN_STANDARD),
            "Mật ong khai thác mùa cà phê nở hoa (tháng 1–3), màu hổ phách nhạt, thơm nhẹ hương "
            "hoa cà phê, độ ẩm dưới 20%.",
        ),
        ProductTemplate(
            "Mật ong hoa điều {brand}",
            "{brand} cashew blossom honey",
            _F,
            ("điều",),
            730,
            ("TCVN 12605:2019", OWN_STANDARD),
            "Mật ong từ đàn ong đặt trong vườn điều, màu vàng sẫm, vị ngọt đậm, hậu chua nhẹ.",
        ),
        ProductTemplate(
            "Mật ong rừng {brand}",
            "{brand} wild forest honey",
            _F,
            ("mật ong rừng",),
            730,
            ("TCVN 12605:2019", OWN_STANDARD),
            "Mật ong do đồng bào M'Nông khai thác theo lối truyền thống, không hủy tổ, lọc thủ "
            "công, vị ngọt sắc.",
        ),
    ),
)

RICE = Specialty(
    key="rice",
    sector_vi="Lương thực",
    producers=2,
    districts=("dn.krongno", "dn.krongno", "dn.cujut"),
    area_crops=(("lúa ST24",), ("lúa ST25",)),
    certifications=(_VG, _OVN),
    area_name="Cánh đồng lúa {place}",
    plot_name="Ruộng lúa {hamlet}",
    products=(
        ProductTemplate(
            "Gạo ST24 {brand}",
            "{brand} ST24 rice",
            _F,
            ("lúa ST24",),
            365,
            ("TCVN 11888:2017", OWN_STANDARD),
            "Gạo ST24 trồng trên cánh đồng phù sa ven sông, hạt dài, trắng trong, cơm dẻo, "
            "thơm mùi lá dứa; túi 5 kg hút chân không.",
        ),
        ProductTemplate(
            "Gạo ST25 {brand}",
            "{brand} ST25 rice",
            _F,
            ("lúa ST25",),
            365,
            ("TCVN 11888:2017", OWN_STANDARD),
            "Gạo ST25 canh tác giảm phân bón hóa học, xay xát trong ngày, cơm mềm, để nguội "
            "vẫn dẻo.",
        ),
        ProductTemplate(
            "Gạo lứt ST24 {brand}",
            "{brand} ST24 brown rice",
            _F,
            ("lúa ST24",),
            270,
            ("TCVN 11888:2017", OWN_STANDARD),
            "Gạo lứt giữ lớp cám giàu chất xơ và vitamin nhóm B, hợp cho người ăn kiêng.",
        ),
    ),
)

CASHEW = Specialty(
    key="cashew",
    sector_vi="Chế biến Điều",
    producers=3,
    districts=("dn.dakrlap", "dn.cujut", "dn.tuyduc"),
    area_crops=(("điều",),),
    certifications=(_VG, _OVN),
    area_name="Vùng nguyên liệu điều {place}",
    plot_name="Vườn điều {hamlet}",
    products=(
        ProductTemplate(
            "Hạt điều rang muối {brand}",
            "{brand} roasted salted cashews",
            _F,
            ("điều",),
            270,
            ("TCVN 4850:2010", OWN_STANDARD, MICROBES),
            "Hạt điều loại W320 còn vỏ lụa, rang muối bằng chảo, giòn, bùi, mặn vừa; hũ 500 g.",
        ),
        ProductTemplate(
            "Hạt điều rang củi {brand}",
            "{brand} wood-fire roasted cashews",
            _F,
            ("điều",),
            240,
            ("TCVN 4850:2010", OWN_STANDARD),
            "Điều nguyên vỏ rang trên bếp củi theo cách truyền thống, thơm mùi khói nhẹ.",
        ),
        ProductTemplate(
            "Nhân điều sấy giòn {brand}",
            "{brand} crispy dried cashew kernels",
            _F,
            ("điều",),
            270,
            ("TCVN 4850:2010", OWN_STANDARD),
            "Nhân điều trắng bóc vỏ lụa, sấy giòn không dầu, không muối.",
        ),
    ),
)

COCOA = Specialty(
    key="cocoa",
    sector_vi="Ca cao",
    producers=3,
    districts=("dn.krongno", "dn.cujut", "dn.dakrlap"),
    area_crops=(("ca cao",), ("ca cao", ROBUSTA)),
    certifications=(_OVN, _RA, _VG),
    area_name="Vùng nguyên liệu ca cao {place}",
    plot_name="Vườn ca cao {hamlet}",
    products=(
        ProductTemplate(
            "Bột ca cao nguyên chất {brand}",
            "{brand} pure cocoa powder",
            _B,
            ("ca cao",),
            540,
            ("TCVN 10725:2015", OWN_STANDARD),
            "Hạt ca cao lên men 6 ngày, phơi khô, rang, ép bớt bơ rồi nghiền mịn; không đường, "
            "không phụ gia.",
        ),
        ProductTemplate(
            "Socola đen 70% {brand}",
            "{brand} 70% dark chocolate",
            _F,
            ("ca cao",),
            365,
            (OWN_STANDARD, MICROBES),
            "Socola làm từ hạt ca cao của vườn nhà (bean to bar), 70% ca cao, vị đắng thanh, hậu "
            "trái cây.",
        ),
        ProductTemplate(
            "Hạt ca cao lên men {brand}",
            "{brand} fermented cocoa beans",
            _F,
            ("ca cao",),
            365,
            (OWN_STANDARD,),
            "Hạt ca cao lên men thùng gỗ, phơi nhà kính, độ ẩm dưới 7%, bán cho xưởng socola.",
            gtin_share=0.4,
        ),
    ),
)

POMELO = Specialty(
    key="pomelo",
    sector_vi="Nông sản",
    producers=2,
    districts=("dn.krongno", "dn.dakrlap", "dn.cujut"),
    area_crops=(("bưởi da xanh",),),
    certifications=(_VG,),
    area_name="Vùng nguyên liệu bưởi {place}",
    plot_name="Vườn bưởi {hamlet}",
    products=(
        ProductTemplate(
            "Bưởi da xanh {brand}",
            "{brand} green-skin pomelo",
            _F,
            ("bưởi da xanh",),
            30,
            (OWN_STANDARD, VIETGAP_STANDARD),
            "Bưởi da xanh ruột hồng, tép bó, mọng nước, ngọt thanh, không hạt hoặc ít hạt.",
            gtin_share=0.4,
        ),
        ProductTemplate(
            "Bưởi năm roi {brand}",
            "{brand} Nam Roi pomelo",
            _F,
            ("bưởi năm roi",),
            30,
            (OWN_STANDARD,),
            "Bưởi năm roi dáng quả lê, vỏ mỏng, múi vàng nhạt, vị ngọt mát.",
            gtin_share=0.4,
        ),
    ),
)

PASSION_FRUIT = Specialty(
    key="passion_fruit",
    sector_vi="Nông sản",
    producers=3,
    districts=("dn.dakglong", "dn.dakglong", "dn.krongno", "dn.gianghia"),
    area_crops=(("chanh dây",),),
    certifications=(_VG, _GG),
    area_name="Vùng nguyên liệu chanh dây {place}",
    plot_name="Vườn chanh dây {hamlet}",
    products=(
        ProductTemplate(
            "Chanh dây tím {brand}",
            "{brand} purple passion fruit",
            _F,
            ("chanh dây",),
            21,
            (OWN_STANDARD, VIETGAP_STANDARD),
            "Chanh dây tím giống Đài Nông, vỏ bóng, nhiều nước, thơm, chua ngọt hài hòa.",
            gtin_share=0.4,
        ),
        ProductTemplate(
            "Nước cốt chanh dây {brand}",
            "{brand} passion fruit juice concentrate",
            _B,
            ("chanh dây",),
            180,
            (OWN_STANDARD, MICROBES),
            "Nước cốt ép từ chanh dây chín, thanh trùng, chai 500 ml; pha loãng 1:4 để uống.",
        ),
        ProductTemplate(
            "Mứt chanh dây {brand}",
            "{brand} passion fruit jam",
            _F,
            ("chanh dây",),
            270,
            (OWN_STANDARD, MICROBES),
            "Mứt nấu từ cơm và hạt chanh dây với đường phèn, không phẩm màu.",
        ),
    ),
)

DRIED_FRUIT = Specialty(
    key="dried_fruit",
    sector_vi="Thực phẩm",
    producers=3,
    districts=("dn.gianghia", "dn.dakrlap", "dn.cujut"),
    area_crops=(("mít",), ("chuối",), ("xoài",), ("mít", "chuối")),
    certifications=(_VG,),
    area_name="Vùng nguyên liệu cây ăn quả {place}",
    plot_name="Vườn cây ăn quả {hamlet}",
    products=(
        ProductTemplate(
            "Mít sấy giòn {brand}",
            "{brand} vacuum-fried jackfruit chips",
            _F,
            ("mít",),
            270,
            (OWN_STANDARD, MICROBES),
            "Mít Thái chín cây sấy chân không, giòn, ngọt tự nhiên, ít dầu.",
        ),
        ProductTemplate(
            "Chuối sấy dẻo {brand}",
            "{brand} soft dried bananas",
            _F,
            ("chuối",),
            180,
            (OWN_STANDARD, MICROBES),
            "Chuối sứ chín sấy dẻo bằng nhiệt thấp, không đường, không chất bảo quản.",
        ),
        ProductTemplate(
            "Xoài sấy dẻo {brand}",
            "{brand} soft dried mango",
            _F,
            ("xoài",),
            270,
            (OWN_STANDARD, MICROBES),
            "Xoài cát chín sấy dẻo, vị chua ngọt, màu vàng tự nhiên.",
        ),
        ProductTemplate(
            "Trái cây sấy thập cẩm {brand}",
            "{brand} mixed dried fruit",
            _F,
            ("mít", "chuối", "xoài"),
            270,
            (OWN_STANDARD, MICROBES),
            "Hỗn hợp mít, chuối, khoai lang, đậu bắp sấy giòn; túi zip 250 g.",
        ),
    ),
)

HERBAL = Specialty(
    key="herbal",
    sector_vi="Dược liệu",
    producers=3,
    districts=("dn.dakglong", "dn.gianghia", "dn.krongno"),
    area_crops=(("đảng sâm",), ("đinh lăng",), ("giảo cổ lam",)),
    certifications=(_VG, _OVN),
    area_name="Vùng nguyên liệu dược liệu {place}",
    plot_name="Vườn dược liệu {hamlet}",
    products=(
        ProductTemplate(
            "Đông trùng hạ thảo sấy thăng hoa {brand}",
            "{brand} freeze-dried cordyceps",
            _H,
            ("đông trùng hạ thảo",),
            730,
            (OWN_STANDARD, HEAVY_METALS, MICROBES),
            "Đông trùng hạ thảo (Cordyceps militaris) nuôi cấy trong phòng sạch, sấy thăng hoa, "
            "giữ hàm lượng cordycepin; hộp 10 g.",
        ),
        ProductTemplate(
            "Đảng sâm sấy khô {brand}",
            "{brand} dried codonopsis root",
            _H,
            ("đảng sâm",),
            540,
            (OWN_STANDARD, HEAVY_METALS),
            "Rễ đảng sâm (sâm dây) trồng dưới tán rừng, thu sau 2 năm, thái lát, sấy khô.",
        ),
        ProductTemplate(
            "Trà đông trùng hạ thảo túi lọc {brand}",
            "{brand} cordyceps herbal tea bags",
            _H,
            ("đông trùng hạ thảo",),
            540,
            (OWN_STANDARD, MICROBES),
            "Trà túi lọc phối đông trùng hạ thảo, cỏ ngọt và hoa cúc, hộp 20 túi.",
        ),
        ProductTemplate(
            "Trà giảo cổ lam {brand}",
            "{brand} jiaogulan herbal tea",
            _H,
            ("giảo cổ lam",),
            540,
            (OWN_STANDARD, HEAVY_METALS),
            "Giảo cổ lam năm lá trồng hữu cơ, sao khô, vị đắng nhẹ, hậu ngọt.",
        ),
    ),
)

HANDICRAFTS = Specialty(
    key="handicrafts",
    sector_vi="Thủ công Mỹ nghệ",
    producers=3,
    districts=("dn.tuyduc", "dn.krongno", "dn.dakglong", "dn.daksong"),
    area_crops=(("bông vải",), ("mây", "tre", "lồ ô")),
    certifications=(),
    area_name="Vùng nguyên liệu thổ cẩm, mây tre {place}",
    plot_name="Rẫy bông và mây tre {hamlet}",
    products=(
        ProductTemplate(
            "Thổ cẩm M'Nông {place}",
            "M'Nông brocade from {place}",
            _C,
            ("bông vải",),
            None,
            (OWN_STANDARD,),
            "Vải thổ cẩm dệt tay trên khung dệt truyền thống của phụ nữ M'Nông, sợi nhuộm màu từ "
            "lá và vỏ cây rừng, hoa văn cổ của bon làng.",
            gtin_share=0.2,
        ),
        ProductTemplate(
            "Gùi đan mây tre {place}",
            "Woven rattan and bamboo back basket from {place}",
            _C,
            ("mây", "tre", "lồ ô"),
            None,
            (OWN_STANDARD,),
            "Gùi đan thủ công từ mây, tre, lồ ô theo kiểu gùi của người M'Nông; dùng làm vật "
            "trang trí và quà lưu niệm.",
            gtin_share=0.2,
        ),
        ProductTemplate(
            "Khăn thổ cẩm dệt tay {brand}",
            "{brand} hand-woven brocade scarf",
            _C,
            ("bông vải",),
            None,
            (OWN_STANDARD,),
            "Khăn choàng thổ cẩm dệt tay, khổ 40 x 180 cm, hoa văn hình học truyền thống.",
            gtin_share=0.3,
        ),
    ),
)

TOURISM = Specialty(
    key="tourism",
    sector_vi="Du lịch Sinh thái",
    producers=3,
    districts=("dn.krongno", "dn.dakglong", "dn.gianghia"),
    area_crops=((ROBUSTA, "sầu riêng", "bơ"), ("rừng trồng",)),
    certifications=(_VG,),
    area_name="Khu vườn sinh thái {place}",
    plot_name="Vườn sinh thái {hamlet}",
    products=(
        ProductTemplate(
            "Điểm du lịch cộng đồng {place}",
            "{place} community-based tourism site",
            _T,
            (),
            None,
            (),
            "Trải nghiệm đời sống bon làng M'Nông: nghe cồng chiêng, xem dệt thổ cẩm, ăn cơm "
            "lam, canh thụt; gần các điểm di sản của Công viên địa chất toàn cầu UNESCO Đắk Nông.",
            gtin_share=0.0,
            listed=False,
        ),
        ProductTemplate(
            "Homestay vườn cà phê {brand}",
            "{brand} coffee-farm homestay",
            _T,
            (ROBUSTA,),
            None,
            ("TCVN 7800:2017",),
            "Nhà gỗ giữa vườn cà phê và sầu riêng, khách tự tay hái, rang, pha cà phê; phục vụ "
            "bữa ăn từ nông sản của vườn.",
            gtin_share=0.0,
            listed=False,
        ),
        ProductTemplate(
            "Khu du lịch sinh thái {brand}",
            "{brand} eco-tourism site",
            _T,
            (),
            None,
            (),
            "Khu sinh thái bên hồ và thác nước, có lối đi bộ trong rừng, cắm trại, chèo thuyền "
            "kayak và tham quan vườn cây ăn trái.",
            gtin_share=0.0,
            listed=False,
        ),
    ),
)

ORNAMENTAL = Specialty(
    key="ornamental",
    sector_vi="Hoa lan Cây cảnh",
    producers=2,
    districts=("dn.gianghia", "dn.dakmil"),
    area_crops=(("lan phi điệp",), ("lan rừng", "cây cảnh")),
    certifications=(),
    area_name="Vườn lan {place}",
    plot_name="Vườn lan {hamlet}",
    products=(
        ProductTemplate(
            "Lan phi điệp {brand}",
            "{brand} Dendrobium anosmum orchids",
            _O,
            ("lan phi điệp",),
            None,
            (OWN_STANDARD,),
            "Lan phi điệp (giả hạc) nhân giống từ cây mẹ rừng Tây Nguyên, ghép lũa, ra hoa tím "
            "thơm vào dịp Tết.",
            gtin_share=0.0,
        ),
        ProductTemplate(
            "Lan Dendrobium chậu {brand}",
            "{brand} potted Dendrobium orchids",
            _O,
            ("lan rừng",),
            None,
            (OWN_STANDARD,),
            "Lan Dendrobium trồng giá thể vỏ thông, chậu 3–5 cành, nở bền 1–2 tháng.",
            gtin_share=0.3,
        ),
        ProductTemplate(
            "Cây cảnh bonsai {brand}",
            "{brand} bonsai trees",
            _O,
            ("cây cảnh",),
            None,
            (),
            "Bonsai mai chiếu thủy, sam hương và cây cà phê dáng cổ, tạo hình thủ công.",
            gtin_share=0.0,
        ),
    ),
)

SPECIALTIES: tuple[Specialty, ...] = (
    COFFEE,
    PEPPER,
    MACADAMIA,
    AVOCADO,
    DURIAN,
    HONEY,
    RICE,
    CASHEW,
    COCOA,
    POMELO,
    PASSION_FRUIT,
    DRIED_FRUIT,
    HERBAL,
    HANDICRAFTS,
    TOURISM,
    ORNAMENTAL,
)

# -- producer names ---------------------------------------------------------------------------
# "{place}" is the commune's short name, "{sector}" the specialty's trade word.
COOPERATIVE_PATTERNS: tuple[str, ...] = (
    "Hợp tác xã Nông nghiệp {place}",
    "HTX Dịch vụ Nông nghiệp {place}",
    "Hợp tác xã {sector} {place}",
    "Hợp tác xã Nông nghiệp Hữu cơ {place}",
    "Hợp tác xã Sản xuất Thương mại Dịch vụ {place}",
    "Hợp tác xã Nông nghiệp Công nghệ cao {place}",
    "HTX Nông nghiệp và Dịch vụ {sector} {place}",
)
# "{brand}" is a trade name from ENTERPRISE_BRANDS.
ENTERPRISE_PATTERNS: tuple[str, ...] = (
    "Công ty TNHH {sector} {brand}",
    "Công ty TNHH MTV {sector} {brand}",
    "Công ty TNHH Sản xuất Thương mại {brand}",
    "Công ty Cổ phần {sector} {brand}",
    "Công ty Cổ phần Đầu tư Nông nghiệp {brand}",
)
HOUSEHOLD_PATTERN = "Hộ kinh doanh {person}"

ENTERPRISE_BRANDS: tuple[str, ...] = (
    "Cao Nguyên Xanh",
    "Đại Ngàn",
    "Bazan Đỏ",
    "Nâm Nung",
    "Tà Đùng",
    "Sơn Nguyên",
    "Hương Rừng",
    "Đất Đỏ",
    "Thiên Phú",
    "Minh Phát",
    "An Khang",
    "Hưng Thịnh",
    "Gia Bảo",
    "Tín Nghĩa",
    "Thuận Phát",
    "Phúc Lộc",
    "Trường Sơn",
    "Nam Tây Nguyên",
    "Việt Hưng",
    "Hoàng Long",
    "Bình Minh",
    "Kim Ngân",
    "Đồng Xanh",
    "Mơ Nông",
    "Núi Lửa",
    "Đắk Nông Xanh",
    "Rừng Xanh",
    "Tâm Phúc",
    "Hòa Bình",
    "Quang Minh",
    "Lộc Phát",
    "Sông Sêrêpốk",
    "Vạn An",
    "Nhật Minh",
    "Trung Thành",
)
# Trade names households print on their bags: a nickname or the owner's family name.
HOUSEHOLD_BRANDS: tuple[str, ...] = (
    "Ba Tùng",
    "Út Hiền",
    "Sáu Lực",
    "Hai Thắng",
    "Tư Hòa",
    "Năm Lợi",
    "Bảy Sơn",
    "Cô Ba",
    "Hải Yến",
    "Minh Thư",
    "Bé Na",
    "Tâm An",
    "Hoa Đất",
    "Mộc Nhiên",
    "Phố Núi",
    "Vườn Nhà",
    "Nhà Rẫy",
    "Bon Làng",
    "Hạnh Nguyên",
    "Gia Huy",
    "Thảo Nguyên",
    "Hồng Phúc",
    "An Nhiên",
    "Kim Thoa",
    "Thanh Bình",
    "Quê Mộc",
    "Tây Nguyên Quê",
    "Ba Miền",
    "Song Anh",
    "Nhật Hạ",
    "Bình An",
    "Thu Hà",
    "Hoàng Gia",
)

# -- people -----------------------------------------------------------------------------------
# Family names with rough national shares (per mille), many highlanders came from the centre.
FAMILY_NAMES: tuple[tuple[str, int], ...] = (
    ("Nguyễn", 380),
    ("Trần", 110),
    ("Lê", 95),
    ("Phạm", 70),
    ("Hoàng", 30),
    ("Huỳnh", 25),
    ("Phan", 45),
    ("Võ", 30),
    ("Vũ", 20),
    ("Đặng", 20),
    ("Bùi", 20),
    ("Đỗ", 14),
    ("Hồ", 13),
    ("Ngô", 13),
    ("Dương", 10),
    ("Lý", 5),
    ("Trương", 10),
    ("Đinh", 8),
    ("Lương", 5),
)
MIDDLE_NAMES_MALE: tuple[str, ...] = (
    "Văn",
    "Văn",
    "Văn",
    "Đức",
    "Minh",
    "Quang",
    "Hữu",
    "Công",
    "Xuân",
    "Thanh",
    "Ngọc",
)
MIDDLE_NAMES_FEMALE: tuple[str, ...] = (
    "Thị",
    "Thị",
    "Thị",
    "Ngọc",
    "Thu",
    "Thanh",
    "Kim",
    "Mỹ",
    "Hồng",
    "Bích",
)
GIVEN_NAMES_MALE: tuple[str, ...] = (
    "Hùng",
    "Dũng",
    "Tuấn",
    "Hải",
    "Long",
    "Nam",
    "Phong",
    "Thắng",
    "Sơn",
    "Tùng",
    "Cường",
    "Hòa",
    "Lợi",
    "Bình",
    "Đông",
    "Trung",
    "Quý",
    "Hiếu",
    "Khánh",
    "Lực",
    "Toàn",
    "Vinh",
    "Thành",
    "Phúc",
    "Tài",
    "Đạt",
)
GIVEN_NAMES_FEMALE: tuple[str, ...] = (
    "Hoa",
    "Lan",
    "Hương",
    "Mai",
    "Hạnh",
    "Nga",
    "Thảo",
    "Yến",
    "Hằng",
    "Liên",
    "Nhung",
    "Trang",
    "Phượng",
    "Loan",
    "Huyền",
    "Thủy",
    "Xuân",
    "Dung",
    "Tuyết",
    "Oanh",
)
# Representatives from the M'Nông and Ê Đê communities (handicrafts, community tourism).
ETHNIC_NAMES: tuple[str, ...] = (
    "Điểu K'Rơi",
    "Điểu Thị Bình",
    "Thị Hoa",
    "Thị Mai",
    "Điểu Thị Len",
    "Y Bhiơ",
    "H'Ngọc",
    "Điểu Đăm",
    "Thị Ngân",
    "Y Sơn",
    "H'Bla",
    "Điểu Xiêng",
)
ETHNIC_SPECIALTIES = frozenset({"handicrafts", "tourism"})

# -- addresses --------------------------------------------------------------------------------
HAMLETS: tuple[str, ...] = (
    "Thôn 1",
    "Thôn 2",
    "Thôn 3",
    "Thôn 4",
    "Thôn 5",
    "Thôn 6",
    "Thôn 7",
    "Thôn 8",
    "Thôn 9",
    "Thôn 10",
    "Thôn 12",
    "Thôn 14",
    "Thôn Tân Lập",
    "Thôn Thuận Hòa",
    "Thôn Hòa Phong",
    "Thôn Bắc Sơn",
    "Thôn Đoàn Kết",
    "Thôn Tân Tiến",
    "Thôn Xuân Lộc",
)
ETHNIC_HAMLETS: tuple[str, ...] = (
    "Bon Bu Dấp",
    "Bon Ja Lú",
    "Bon Bu Prăng",
    "Bon R'Moan",
    "Bon Jun Juh",
    "Bon Ndrung",
    "Buôn Buôr",
    "Bon Phi Mur",
)
URBAN_QUARTERS: tuple[str, ...] = (
    "Tổ dân phố 1",
    "Tổ dân phố 2",
    "Tổ dân phố 3",
    "Tổ dân phố 4",
    "Tổ dân phố 5",
    "Tổ dân phố 6",
)
STREETS: tuple[str, ...] = (
    "Nguyễn Tất Thành",
    "Hùng Vương",
    "Lê Duẩn",
    "Trần Hưng Đạo",
    "Quang Trung",
    "Lê Lợi",
    "Nguyễn Văn Linh",
    "Phan Bội Châu",
    "Hai Bà Trưng",
    "Nơ Trang Lơng",
)
# Enterprises often sit on the national roads that cross the province.
HIGHWAYS: tuple[str, ...] = ("Quốc lộ 14", "Quốc lộ 14", "Quốc lộ 28", "Quốc lộ 14C")
URBAN_PREFIXES: tuple[str, ...] = ("Phường ", "Thị trấn ")
UNIT_PREFIXES: tuple[str, ...] = ("Thị trấn ", "Thành phố ", "Phường ", "Huyện ", "Tỉnh ", "Xã ")

# -- e-commerce -------------------------------------------------------------------------------
# Platforms the province's OCOP plan pushes producers onto, with rough shares of listings.
PLATFORM_WEIGHTS: tuple[tuple[Platform, int], ...] = (
    (Platform.SHOPEE, 6),
    (Platform.TIKTOK_SHOP, 4),
    (Platform.POSTMART, 4),
    (Platform.LAZADA, 3),
    (Platform.VOSO, 2),
    (Platform.TIKI, 2),
)
# URL shapes of each platform; {slug} is the folded product name, {a}/{b} numeric ids.
PLATFORM_URLS: dict[Platform, str] = {
    Platform.SHOPEE: "https://shopee.vn/{slug}-i.{a}.{b}",
    Platform.LAZADA: "https://www.lazada.vn/products/{slug}-i{a}-s{b}.html",
    Platform.TIKI: "https://tiki.vn/{slug}-p{a}.html",
    Platform.TIKTOK_SHOP: "https://shop.tiktok.com/view/product/{b}?region=VN&locale=vi-VN",
    Platform.POSTMART: "https://postmart.vn/san-pham/{slug}-{a}",
    Platform.VOSO: "https://voso.vn/{slug}-p{a}",
}

# -- certification references -----------------------------------------------------------------
# Shapes of certificate numbers; {n} is a number, {y} a year. Plausible, not real records.
CERTIFICATE_REFERENCES: dict[CertificationScheme, str] = {
    CertificationScheme.VIETGAP: "VietGAP-TT-{n2}-03-67-{n4}",
    CertificationScheme.GLOBALGAP: "GGN 40{n11}",
    CertificationScheme.ORGANIC_VN: "TCVN 11041:{y}/HC-{n4}",
    CertificationScheme.ORGANIC_EU: "VN-BIO-{n3}-{n5}",
    CertificationScheme.ORGANIC_USDA: "NOP-{n6}",
    CertificationScheme.RAINFOREST_ALLIANCE: "RA-C-VN-{n6}",
    CertificationScheme.FOUR_C: "4C-{n7}",
    CertificationScheme.FAIRTRADE: "FLO ID {n5}",
}
# Years a certificate stays valid after issue.
CERTIFICATE_YEARS: dict[CertificationScheme, int] = {
    CertificationScheme.VIETGAP: 3,
    CertificationScheme.GLOBALGAP: 1,
    CertificationScheme.ORGANIC_VN: 2,
    CertificationScheme.ORGANIC_EU: 1,
    CertificationScheme.ORGANIC_USDA: 1,
    CertificationScheme.RAINFOREST_ALLIANCE: 3,
    CertificationScheme.FOUR_C: 3,
    CertificationScheme.FAIRTRADE: 3,
}

# -- OCOP evaluations -------------------------------------------------------------------------
# Council remarks on products rated below 3★ (no certificate). Plausible, not real records.
BELOW_THREE_NOTES = (
    "Đạt {total} điểm (2 sao), chưa đủ điều kiện công nhận. Đề nghị hoàn thiện bao bì, nhãn "
    "hàng hóa và hồ sơ tự công bố sản phẩm.",
    "Đạt {total} điểm (2 sao). Sản phẩm chưa có kênh phân phối ổn định; cần bổ sung kế hoạch "
    "kinh doanh và câu chuyện sản phẩm.",
    "Đạt {total} điểm (2 sao). Chưa có phiếu kiểm nghiệm chỉ tiêu chất lượng theo tiêu chuẩn "
    "công bố; đề nghị đánh giá lại ở kỳ sau.",
)
# Mandatory criteria (tiêu chí bắt buộc) a product may fail whatever its points.
FAILED_MANDATORY_NOTES = (
    "Không đạt tiêu chí bắt buộc: chưa có Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm "
    "còn hiệu lực ({total} điểm, không xét hạng sao).",
    "Không đạt tiêu chí bắt buộc: phiếu kiểm nghiệm vượt giới hạn vi sinh vật theo "
    "QCVN 8-3:2012/BYT ({total} điểm, không xét hạng sao).",
)
UPGRADE_NOTE = "Đánh giá lại, nâng hạng từ 3 sao lên 4 sao."
RENEWAL_NOTE = "Đánh giá, công nhận lại khi Giấy chứng nhận số {number} hết hiệu lực."
FIRST_FOUR_STAR_NOTE = "Sản phẩm đầu tiên của tỉnh Đắk Nông đạt 4 sao OCOP."
# Grounds on which a province revokes (thu hồi) a certificate.
REVOCATION_REASONS = (
    "Không duy trì hồ sơ truy xuất nguồn gốc",
    "Không duy trì hồ sơ truy xuất nguồn gốc và sổ ghi chép sản xuất theo quy định",
)

# -- traceability chains ----------------------------------------------------------------------
# Places, agencies and documents the demo's lots pass through. Plausible, not real records.
TRACE_SHOP = (
    "Điểm giới thiệu và bán sản phẩm OCOP tỉnh Lâm Đồng, Phường Nam Gia Nghĩa, Tỉnh Lâm Đồng"
)
TRACE_MARKET = "Cửa hàng nông sản sạch Bắc Gia Nghĩa, Phường Bắc Gia Nghĩa, Tỉnh Lâm Đồng"
TRACE_INSPECTOR = "Chi cục Quản lý chất lượng nông lâm sản và thủy sản tỉnh Lâm Đồng"
TRACE_LAB = "Trung tâm Kiểm nghiệm thực phẩm tỉnh Lâm Đồng"
# Facilities, "{brand}" being the producer's brand.
TRACE_DRYING_YARD = "Sân phơi, nhà phơi giàn {brand}"
TRACE_WORKSHOP = "Xưởng sơ chế và chế biến {brand}"
TRACE_WAREHOUSE = "Kho thành phẩm {brand}"
TRACE_SHIPPING_CORRECTION = (
    "Ghi nhầm số lượng xuất kho: chuyến hàng giao {place} ngày {day} là {right} túi, "
    "không phải {wrong} túi (đảo chữ số khi nhập)."
)
TRACE_HONEY_RECALL = (
    "Mẫu lấy tại điểm bán có độ ẩm {moisture}%, vượt mức tối đa 20% của TCVN 12605:2019 "
    "(phiếu kết quả {report}); mật ong có nguy cơ lên men. Thu hồi toàn bộ lô thu hoạch và "
    "các lô đóng chai từ lô này."
)
