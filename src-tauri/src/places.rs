//! Names of places and kinds of site for the "today's work" screen: the assignment carries codes
//! (`yuzhong`, `enterprise`); the surveyor reads names. A code not listed is shown as it is.

use zhisu_core::Text;

fn text(zh: &str, en: &str) -> Text {
    Text(
        [("zh-CN", zh), ("en", en)]
            .into_iter()
            .map(|(l, s)| (l.to_string(), s.to_string()))
            .collect(),
    )
}

/// The kinds of site in the sync protocol.
const SITE_TYPES: [(&str, &str, &str); 6] = [
    ("enterprise", "企业", "Enterprise"),
    ("school", "学校", "School"),
    ("hospital", "医院", "Hospital"),
    ("station", "车站", "Station"),
    ("community", "社区", "Community"),
    ("village", "村", "Village"),
];

/// Chongqing's 38 districts and counties and its three zones, by the codes the server uses.
const DISTRICTS: [(&str, &str, &str); 41] = [
    ("wanzhou", "万州区", "Wanzhou"),
    ("fuling", "涪陵区", "Fuling"),
    ("yuzhong", "渝中区", "Yuzhong"),
    ("dadukou", "大渡口区", "Dadukou"),
    ("jiangbei", "江北区", "Jiangbei"),
    ("shapingba", "沙坪坝区", "Shapingba"),
    ("jiulongpo", "九龙坡区", "Jiulongpo"),
    ("nanan", "南岸区", "Nan'an"),
    ("beibei", "北碚区", "Beibei"),
    ("qijiang", "綦江区", "Qijiang"),
    ("dazu", "大足区", "Dazu"),
    ("yubei", "渝北区", "Yubei"),
    ("banan", "巴南区", "Banan"),
    ("qianjiang", "黔江区", "Qianjiang"),
    ("changshou", "长寿区", "Changshou"),
    ("jiangjin", "江津区", "Jiangjin"),
    ("hechuan", "合川区", "Hechuan"),
    ("yongchuan", "永川区", "Yongchuan"),
    ("nanchuan", "南川区", "Nanchuan"),
    ("bishan", "璧山区", "Bishan"),
    ("tongliang", "铜梁区", "Tongliang"),
    ("tongnan", "潼南区", "Tongnan"),
    ("rongchang", "荣昌区", "Rongchang"),
    ("kaizhou", "开州区", "Kaizhou"),
    ("liangping", "梁平区", "Liangping"),
    ("wulong", "武隆区", "Wulong"),
    ("chengkou", "城口县", "Chengkou"),
    ("fengdu", "丰都县", "Fengdu"),
    ("dianjiang", "垫江县", "Dianjiang"),
    ("zhongxian", "忠县", "Zhongxian"),
    ("yunyang", "云阳县", "Yunyang"),
    ("fengjie", "奉节县", "Fengjie"),
    ("wushan", "巫山县", "Wushan"),
    ("wuxi", "巫溪县", "Wuxi"),
    ("shizhu", "石柱土家族自治县", "Shizhu"),
    ("xiushan", "秀山土家族苗族自治县", "Xiushan"),
    ("youyang", "酉阳土家族苗族自治县", "Youyang"),
    ("pengshui", "彭水苗族土家族自治县", "Pengshui"),
    ("liangjiang", "两江新区", "Liangjiang New Area"),
    (
        "gaoxin",
        "西部科学城重庆高新区",
        "Western Science City (Chongqing Hi-tech Zone)",
    ),
    (
        "wansheng",
        "万盛经开区",
        "Wansheng Economic Development Zone",
    ),
];

fn lookup(table: &[(&str, &str, &str)], code: &str) -> Text {
    table
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or_else(|| text(code, code), |(_, zh, en)| text(zh, en))
}

pub fn site_type(code: &str) -> Text {
    lookup(&SITE_TYPES, code)
}

pub fn district(code: &str) -> Text {
    lookup(&DISTRICTS, code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_site_type_of_the_protocol_has_a_chinese_name() {
        let names: Vec<String> = zhisu_protocol::SITE_TYPES
            .iter()
            .map(|c| site_type(c).get("zh-CN", "zh-CN").to_string())
            .collect();
        assert_eq!(names, ["企业", "学校", "医院", "车站", "社区", "村"]);
        assert_eq!(district("yuzhong").get("zh-CN", "zh-CN"), "渝中区");
        assert_eq!(district("nowhere").get("en", "zh-CN"), "nowhere");
        let mut codes: Vec<&str> = DISTRICTS.iter().map(|d| d.0).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), DISTRICTS.len(), "codes are unique");
    }
}
